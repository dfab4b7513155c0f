// cdk-stepfunctions-redshift used from Go: the README's samples (readme_samples_test.go) in four stacks, and a state
// machine written with LambdaInvoke and the raw payload of the invocation API, synthesized and checked.
//
// The cloud assembly is written to $BINDINGS_CDK_OUT/go when that variable is set (the bindings run lints it with
// cfn-lint), else to a temporary directory removed afterwards.
package bindingtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	redshift "github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go/cdkstepfunctionsredshift"
)

const waitForTaskToken = "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"

var (
	cluster, serverless, options, shared, observed template
	clusterTasker, etl, reporting, watched         redshift.SfnRedshiftTasker
	grant                                          awsiam.Grant
	salesTable                                     redshift.RedshiftSql
)

// retries: the retries every task of the library adds: the Lambda service errors, then the Data API's retryable errors.
func retries() list {
	return list{
		object{"ErrorEquals": []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
			"Lambda.AWSLambdaException", "Lambda.SdkClientException"}, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2},
		object{"ErrorEquals": redshift.SfnRedshiftTaskerErrors_RETRYABLE_DATA_API_ERRORS(), "IntervalSeconds": 10, "MaxAttempts": 5, "BackoffRate": 2},
	}
}

// callbackRetries: a RedshiftSqlTask that waits for its callback also retries a serializable isolation violation.
func callbackRetries() list {
	return append(retries(), object{"ErrorEquals": list{*redshift.SfnRedshiftTaskerErrors_SERIALIZATION_CONFLICT()},
		"IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2, "JitterStrategy": "FULL"})
}

// rawPayloadMachine: the invocation API's payload written out with LambdaInvoke, as a state machine written without
// the library's tasks does.
func rawPayloadMachine(scope constructs.Construct, tasker redshift.SfnRedshiftTasker) awsstepfunctions.StateMachine {
	runSql := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String("RunSql"), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:     tasker.LambdaFunction(),
		IntegrationPattern: awsstepfunctions.IntegrationPattern_WAIT_FOR_TASK_TOKEN,
		Payload: awsstepfunctions.TaskInput_FromObject(&map[string]interface{}{
			"taskToken":    awsstepfunctions.JsonPath_TaskToken(),
			"executionArn": awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Execution.Id")),
			"sqlStatement": "call refresh_sales_summary()",
		}),
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Hours(jsii.Number(2))),
	})
	runSql.AddCatch(awsstepfunctions.NewFail(scope, jsii.String("RawSqlFailed"), nil), &awsstepfunctions.CatchProps{
		Errors: &[]*string{redshift.SfnRedshiftTaskerErrors_STATEMENT_FAILED()},
	})
	return awsstepfunctions.NewStateMachine(scope, jsii.String("RawMachine"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(runSql),
	})
}

func TestMain(m *testing.M) {
	base := os.Getenv("BINDINGS_CDK_OUT")
	outdir := filepath.Join(base, "go")
	if base == "" {
		dir, err := os.MkdirTemp("", "cdk-sfn-redshift-go-")
		if err != nil {
			panic(err)
		}
		outdir = dir
	}
	synthesize(outdir)
	code := m.Run()
	jsii.Close()
	if base == "" {
		os.RemoveAll(outdir)
	}
	os.Exit(code)
}

func synthesize(outdir string) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})

	clusterStack := awscdk.NewStack(app, jsii.String("GoClusterStack"), nil)
	clusterTasker = provisionedCluster(clusterStack)
	// A function of the app that invokes the tasker itself gets the permission from GrantInvoke.
	reportingRole := awsiam.NewRole(clusterStack, jsii.String("ReportingRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	grant = clusterTasker.GrantInvoke(reportingRole)

	serverlessStack := awscdk.NewStack(app, jsii.String("GoServerlessStack"), nil)
	serverlessTasker := serverlessWorkgroup(serverlessStack)
	salesTable = sqlInAStack(serverlessStack, serverlessTasker)
	rawPayloadMachine(serverlessStack, serverlessTasker)

	optionsStack := awscdk.NewStack(app, jsii.String("GoOptionsStack"), nil)
	stepFunctionsOptions(optionsStack, declaredTasker(optionsStack))

	sharedStack := awscdk.NewStack(app, jsii.String("GoSharedStack"), nil)
	etl, reporting = sharedCallbackInfrastructure(sharedStack)

	observedStack := awscdk.NewStack(app, jsii.String("GoObservedStack"), nil)
	fastPath(observedStack)
	watched = metricsAndAlarms(observedStack)

	app.Synth(nil)
	cluster = *assertions.Template_FromStack(clusterStack, nil).ToJSON()
	serverless = *assertions.Template_FromStack(serverlessStack, nil).ToJSON()
	options = *assertions.Template_FromStack(optionsStack, nil).ToJSON()
	shared = *assertions.Template_FromStack(sharedStack, nil).ToJSON()
	observed = *assertions.Template_FromStack(observedStack, nil).ToJSON()
}

func invokeOnly(functionID string) list {
	return list{object{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": getArn(functionID)}}
}

func TestClusterTaskerMachineAndGrant(t *testing.T) {
	expectEqual(t, "resource counts", counts(defaultTasker, stateMachine, map[string]int{"AWS::IAM::Role": 1}, rolePolicy), resourceCounts(cluster))
	functionID := onlyID(t, cluster, "AWS::Lambda::Function", "RSTaskStarterFunction")
	tableID := onlyID(t, cluster, "AWS::DynamoDB::Table", "RSTaskTrackingTable")
	expectEqual(t, "environment", object{
		"DDB_TABLE_NAME":         object{"Ref": tableID},
		"CLUSTER_IDENTIFIER":     "my-cluster",
		"DATABASE":               "dev",
		"DB_USER":                "etl_user",
		"TTL":                    "1",
		"LOG_LEVEL":              "INFO",
		"FAST_PATH_WAIT_SECONDS": "2",
	}, environment(t, cluster, "RSTaskStarterFunction"))
	expectEqual(t, "Runtime", "nodejs24.x", properties(t, cluster, "AWS::Lambda::Function", "RSTaskStarterFunction")["Runtime"])
	// RedshiftSqlTask_JsonPath: the callback task, its payload, time budget, retries and catch.
	machine := states(t, cluster, "Machine")
	expectEqual(t, "StartAt", "RefreshSales", machine["StartAt"])
	expectStates(t, object{
		"RefreshSales": object{
			"Type":     "Task",
			"Resource": waitForTaskToken,
			"Parameters": object{"FunctionName": arn(functionID), "Payload": object{
				"sqlStatement":   "call refresh_sales_summary()",
				"taskToken.$":    "$$.Task.Token",
				"executionArn.$": "$$.Execution.Id",
			}},
			"TimeoutSeconds": 7200,
			"Retry":          callbackRetries(),
			"Catch":          list{object{"ErrorEquals": list{"FAILED"}, "Next": "SqlFailed"}},
			"End":            true,
		},
		"SqlFailed": object{"Type": "Fail"},
	}, machine)
	// The machine may invoke the tasker function, nothing else; so may the role given GrantInvoke.
	expectEqual(t, "machine policy", invokeOnly(functionID), policyStatements(t, cluster, "MachineRoleDefaultPolicy"))
	expectEqual(t, "granted role's policy", invokeOnly(functionID), policyStatements(t, cluster, "ReportingRoleDefaultPolicy"))
	if !*grant.Success() {
		t.Error("GrantInvoke: the grant did not succeed")
	}
	// The attributes the construct exposes reach Go, typed.
	if clusterTasker.Queue() == nil || clusterTasker.DeadLetterQueue() == nil || clusterTasker.Rule() == nil || clusterTasker.EncryptionKey() == nil {
		t.Error("a default tasker exposes its queue, dead-letter queue, rule and key")
	}
	if *clusterTasker.CompleterFunction().Node().Path() != *clusterTasker.LambdaFunction().Node().Path() {
		t.Error("a default tasker's completer is its starter function")
	}
}

func TestServerlessTaskerSqlResourcesAndRawPayload(t *testing.T) {
	// + the secret's read grant on the starter role, the two custom resources, the LambdaInvoke machine.
	expectEqual(t, "resource counts", counts(defaultTasker, rolePolicy, map[string]int{"Custom::RedshiftSql": 2}, stateMachine), resourceCounts(serverless))
	functionID := onlyID(t, serverless, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction")
	tableID := onlyID(t, serverless, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable")
	expectEqual(t, "environment", object{
		"DDB_TABLE_NAME":         object{"Ref": tableID},
		"WORKGROUP_NAME":         "analytics",
		"DATABASE":               "dev",
		"SECRET_ARN":             secretArn,
		"TTL":                    "1",
		"LOG_LEVEL":              "INFO",
		"FAST_PATH_WAIT_SECONDS": "2",
	}, environment(t, serverless, "AnalyticsTaskStarterFunction"))
	expectEqual(t, "secret grant", list{object{
		"Action":   list{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		"Effect":   "Allow",
		"Resource": secretArn,
	}}, policyStatements(t, serverless, "AnalyticsTaskStarterRoleDefaultPolicy"))

	// RedshiftSql: the tasker's function as service token, the SQL as properties, the callback infrastructure first.
	_, table := onlyResource(t, serverless, "Custom::RedshiftSql", "SalesTable")
	expectEqual(t, "SalesTable", object{
		"ServiceToken":   getArn(functionID),
		"ServiceTimeout": "600",
		"OnCreate":       "create table if not exists sales (id int, region varchar(20))",
		"OnDelete":       "drop table if exists sales",
	}, table["Properties"])
	dependsOn := fmt.Sprint(table["DependsOn"])
	if eventSource := onlyID(t, serverless, "AWS::Lambda::EventSourceMapping", "AnalyticsTask"); !strings.Contains(dependsOn, eventSource) || strings.Contains(dependsOn, functionID) {
		t.Errorf("SalesTable depends on the event source mapping %s, not on the function %s: %s", eventSource, functionID, dependsOn)
	}
	view := "create or replace view emea_sales as select * from sales where region = 'EMEA'"
	_, emeaSales := onlyResource(t, serverless, "Custom::RedshiftSql", "EmeaSales")
	expectEqual(t, "EmeaSales", object{
		"ServiceToken":   getArn(functionID),
		"ServiceTimeout": "600",
		"OnCreate":       view,
		"OnUpdate":       view,
		"OnDelete":       "drop view if exists emea_sales",
	}, emeaSales["Properties"])
	if !strings.Contains(fmt.Sprint(emeaSales["DependsOn"]), "SalesTable") {
		t.Errorf("EmeaSales depends on SalesTable: %v", emeaSales["DependsOn"])
	}
	expectEqual(t, "custom resource path", "GoServerlessStack/SalesTable/Default", *salesTable.CustomResource().Node().Path())

	// LambdaInvoke with the raw payload, as the invocation API documents it.
	task := states(t, serverless, "RawMachine")["States"].(object)["RunSql"].(object)
	expectEqual(t, "Resource", waitForTaskToken, task["Resource"])
	expectEqual(t, "Parameters", object{"FunctionName": arn(functionID), "Payload": object{
		"taskToken.$":    "$$.Task.Token",
		"executionArn.$": "$$.Execution.Id",
		"sqlStatement":   "call refresh_sales_summary()",
	}}, task["Parameters"])
	expectEqual(t, "TimeoutSeconds", 7200, task["TimeoutSeconds"])
	expectEqual(t, "Catch", list{object{"ErrorEquals": list{"FAILED"}, "Next": "RawSqlFailed"}}, task["Catch"])
	// LambdaInvoke grants the function and its versions.
	statement := policyStatements(t, serverless, "RawMachineRoleDefaultPolicy")[0].(object)
	expectEqual(t, "raw machine policy action", "lambda:InvokeFunction", statement["Action"])
	expectEqual(t, "raw machine policy first resource", getArn(functionID), statement["Resource"].(list)[0])
}

func TestOptionsMachineInBothQueryLanguages(t *testing.T) {
	// + the extra table grant (TablePermission) on the starter role.
	expectEqual(t, "resource counts", counts(defaultTasker, stateMachine, rolePolicy), resourceCounts(options))
	functionID := onlyID(t, options, "AWS::Lambda::Function", "ReportTaskStarterFunction")
	tableID := onlyID(t, options, "AWS::DynamoDB::Table", "ReportTaskTrackingTable")
	expectEqual(t, "LOG_LEVEL", "DEBUG", environment(t, options, "ReportTaskStarterFunction")["LOG_LEVEL"])
	// TablePermission_Of("ReadWrite"): table.grantReadWriteData on the starter role, beyond the handler's own grant.
	grants := policyStatements(t, options, "ReportTaskStarterRoleDefaultPolicy")
	if len(grants) != 1 {
		t.Fatalf("one extra table grant, got %v", grants)
	}
	tableGrant := fmt.Sprint(grants[0])
	for _, want := range []string{tableID, "dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:PutItem"} {
		if !strings.Contains(tableGrant, want) {
			t.Errorf("the table grant names %s: %s", want, tableGrant)
		}
	}

	function := arn(functionID)
	machine := states(t, options, "Report")
	expectEqual(t, "StartAt", "RegionSales", machine["StartAt"])
	expectStates(t, object{
		// JSONPath: Parameters, the token and the execution from the context object, a parameter from the input.
		"RegionSales": object{
			"Type":     "Task",
			"Resource": waitForTaskToken,
			"Parameters": object{"FunctionName": function, "Payload": object{
				"sqlStatement":   "insert into report select * from sales where region = :region",
				"parameters":     list{object{"name": "region", "value.$": "$.region"}},
				"taskToken.$":    "$$.Task.Token",
				"executionArn.$": "$$.Execution.Id",
			}},
			"TimeoutSeconds": 1800,
			"ResultPath":     "$.insert",
			"Retry":          callbackRetries(),
			"Catch":          list{object{"ErrorEquals": list{"States.Timeout"}, "Next": "CancelIt"}},
			"Next":           "SwapTables",
		},
		// RedshiftStatementTask: a plain invocation of the function with the action and statementId LATEST.
		"CancelIt": object{
			"Type":       "Task",
			"Resource":   function,
			"Parameters": object{"action": "cancelStatement", "statementId": "LATEST", "executionArn.$": "$$.Execution.Id"},
			"Retry":      retries(),
			"Next":       "DescribeIt",
		},
		"DescribeIt": object{
			"Type":       "Task",
			"Resource":   function,
			"Parameters": object{"action": "describeStatement", "statementId": "LATEST", "executionArn.$": "$$.Execution.Id"},
			"Retry":      retries(),
			"End":        true,
		},
		// JSONata: Arguments, the token and the execution as JSONata expressions.
		"SwapTables": object{
			"Type":          "Task",
			"QueryLanguage": "JSONata",
			"Resource":      waitForTaskToken,
			"Arguments": object{"FunctionName": function, "Payload": object{
				"sqlStatements": list{"delete from report_live", "insert into report_live select * from report"},
				"action":        "executeSingletonStatement",
				"taskToken":     "{% $states.context.Task.Token %}",
				"executionArn":  "{% $states.context.Execution.Id %}",
			}},
			"TimeoutSeconds": 1800,
			"Retry":          callbackRetries(),
			"Next":           "ReadRows",
		},
		"ReadRows": object{
			"Type":          "Task",
			"QueryLanguage": "JSONata",
			"Resource":      function,
			"Arguments":     object{"action": "getStatementResult", "statementId": "LATEST", "executionArn": "{% $states.context.Execution.Id %}"},
			"Output":        object{"rows": "{% $states.result.Records %}"},
			"Retry":         retries(),
			"End":           true,
		},
	}, machine)
	expectEqual(t, "machine policy", invokeOnly(functionID), policyStatements(t, options, "ReportRoleDefaultPolicy"))
}

func TestSecondTaskerSharesTheCallbackInfrastructure(t *testing.T) {
	expectEqual(t, "resource counts", counts(defaultTasker, taskerWithoutCallbackInfra), resourceCounts(shared))
	tableID := onlyID(t, shared, "AWS::DynamoDB::Table", "EtlTaskTrackingTable")
	env := environment(t, shared, "ReportingTaskStarterFunction")
	expectEqual(t, "DDB_TABLE_NAME", object{"Ref": tableID}, env["DDB_TABLE_NAME"])
	expectEqual(t, "WORKGROUP_NAME", "reporting", env["WORKGROUP_NAME"])
	// Optional attributes arrive as nil where the tasker created nothing.
	if reporting.Queue() != nil || reporting.CompleterFunction() != nil || reporting.Rule() != nil {
		t.Error("a tasker without callback infrastructure has no queue, completer or rule")
	}
	if etl.Queue() == nil {
		t.Error("the first tasker has its queue")
	}
}

func TestFastPathMetricsAndAlarms(t *testing.T) {
	expectEqual(t, "FAST_PATH_WAIT_SECONDS", "5", environment(t, observed, "QuickTaskStarterFunction")["FAST_PATH_WAIT_SECONDS"])
	// Two default alarms per tasker, and the sample's two.
	expectEqual(t, "alarms", 6, resourceCounts(observed)["AWS::CloudWatch::Alarm"])
	expectEqual(t, "dashboards", 1, resourceCounts(observed)["AWS::CloudWatch::Dashboard"])
	failed := watched.MetricStatementsFailed(nil)
	expectEqual(t, "metric", []string{"CdkStepFunctionsRedshift", "StatementsFailed", "Sum"},
		[]string{*failed.Namespace(), *failed.MetricName(), *failed.Statistic()})
	expectEqual(t, "DLQ metric", "ApproximateNumberOfMessagesVisible", *watched.MetricDeadLetterMessages(nil).MetricName())
	if watched.Dashboard() == nil || watched.DeadLetterQueueAlarm() == nil {
		t.Error("the sample's tasker has its dashboard and dead-letter queue alarm")
	}
}

func TestEnumLikeClasses(t *testing.T) {
	expectEqual(t, "LogLevel_DEBUG", "DEBUG", *redshift.LogLevel_DEBUG().Value())
	expectEqual(t, "LogLevel_Of", "debug", *redshift.LogLevel_Of(jsii.String("debug")).Value())
	expectEqual(t, "ToString", "WARN", *redshift.LogLevel_WARN().ToString())
	expectEqual(t, "TablePermission_Of", *redshift.TablePermission_READ_WRITE().Value(), *redshift.TablePermission_Of(jsii.String("ReadWrite")).Value())
	expectEqual(t, "StatementAction values", []string{"describeStatement", "cancelStatement", "getStatementResult"}, []string{
		*redshift.StatementAction_DESCRIBE().Value(), *redshift.StatementAction_CANCEL().Value(), *redshift.StatementAction_FETCH_RESULT().Value(),
	})
	if redshift.LogLevel_WARN() != redshift.LogLevel_WARN() {
		t.Error("each call of a constant's function returns the same object")
	}
}

// The library compares the action with StatementAction.FETCH_RESULT by identity: the Go constant is that object.
func TestAStatementActionReadInGoIsTheLibraryObject(t *testing.T) {
	stack := awscdk.NewStack(scratchApp(t), jsii.String("Actions"), nil)
	tasker := redshift.NewSfnRedshiftTasker(stack, jsii.String("Tasker"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev")},
	})
	message, _ := panicMessage(func() {
		redshift.RedshiftStatementTask_JsonPath(stack, jsii.String("NextPage"), &redshift.RedshiftStatementTaskJsonPathProps{
			Tasker: tasker, Action: redshift.StatementAction_FETCH_RESULT(), NextToken: jsii.String("token"),
		})
	})
	if message != "" {
		t.Errorf("FETCH_RESULT with a next token: %s", message)
	}
	message, _ = panicMessage(func() {
		redshift.RedshiftStatementTask_JsonPath(stack, jsii.String("Cancel"), &redshift.RedshiftStatementTaskJsonPathProps{
			Tasker: tasker, Action: redshift.StatementAction_CANCEL(), NextToken: jsii.String("token"),
		})
	})
	if !strings.Contains(message, "nextToken pages a result") {
		t.Errorf("CANCEL with a next token: want the library's message, got %q", message)
	}
}

// scratchApp is an app whose cloud assembly is not kept: in a temporary directory the test removes (an app without
// Outdir leaves one behind in the system's temporary directory).
func scratchApp(t *testing.T) awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
}

// panicMessage runs f and returns what it panicked with ("" if it did not), and the panic value's type.
func panicMessage(f func()) (message string, kind string) {
	defer func() {
		if r := recover(); r != nil {
			message, kind = fmt.Sprint(r), fmt.Sprintf("%T", r)
		}
	}()
	f()
	return "", ""
}

func TestInvalidPropsFailWithTheLibraryMessage(t *testing.T) {
	stack := awscdk.NewStack(scratchApp(t), jsii.String("Invalid"), nil)
	message, kind := panicMessage(func() {
		redshift.NewSfnRedshiftTasker(stack, jsii.String("RSTask"), &redshift.SfnRedshiftTaskerProps{
			RedshiftTargetProps: &redshift.RedshiftTargetProps{
				ClusterIdentifier: jsii.String("my-cluster"), WorkgroupName: jsii.String("analytics"), DbName: jsii.String("dev"),
			},
		})
	})
	if !strings.Contains(message, "Invalid SfnRedshiftTasker props") || !strings.Contains(message, "got both") {
		t.Errorf("want the library's validation message, got %q", message)
	}
	// A validation error panics with a plain error value (*errors.errorString): match on the message.
	if kind != "*errors.errorString" {
		t.Errorf("a validation error panics with a %s", kind)
	}
	tasker := redshift.NewSfnRedshiftTasker(stack, jsii.String("Valid"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev")},
	})
	message, _ = panicMessage(func() {
		redshift.RedshiftSqlTask_Jsonata(stack, jsii.String("Both"), &redshift.RedshiftSqlTaskJsonataProps{
			Tasker: tasker, Sql: jsii.String("select 1"), SqlStatements: jsii.Strings("select 2"),
		})
	})
	if !strings.Contains(message, "Invalid RedshiftSqlTask props") || !strings.Contains(message, "got both") {
		t.Errorf("want the library's validation message, got %q", message)
	}
	// A missing required prop is the binding's error (a panic with a string), before the library sees the props.
	message, kind = panicMessage(func() {
		redshift.RedshiftSqlTask_JsonPath(stack, jsii.String("NoTasker"), &redshift.RedshiftSqlTaskJsonPathProps{Sql: jsii.String("select 1")})
	})
	if kind != "string" || !strings.Contains(message, "Tasker is required") {
		t.Errorf("want the binding's required-field panic, got a %s: %q", kind, message)
	}
	// Nothing of the failed constructs was created.
	for id := range resources(*assertions.Template_FromStack(stack, nil).ToJSON()) {
		if !strings.HasPrefix(id, "Valid") {
			t.Errorf("an invalid construct created %s", id)
		}
	}
}
