// cdk-stepfunctions-redshift used from Go: the README's taskers and state machine, synthesized and checked.
//
// The cloud assembly is written to $BINDINGS_CDK_OUT/go when that variable is set (the bindings run lints it with
// cfn-lint), else to a temporary directory removed afterwards.
package bindingtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	redshift "github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go/cdkstepfunctionsredshift"
)

const (
	secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf"
	sql       = "call refresh_sales_summary()"
)

type template = map[string]interface{}

var (
	cluster, serverless, shared template
	clusterTasker               redshift.SfnRedshiftTasker
	etl, reporting              redshift.SfnRedshiftTasker
)

// taskerWithMachine: the resources of one tasker with its callback infrastructure, plus the state machine, its role
// and policy.
func taskerWithMachine() map[string]int {
	return map[string]int{
		"AWS::DynamoDB::Table":             1,
		"AWS::Lambda::Function":            1,
		"AWS::IAM::Role":                   2,
		"AWS::IAM::Policy":                 3,
		"AWS::Logs::LogGroup":              1,
		"AWS::Events::Rule":                1,
		"AWS::SQS::Queue":                  2,
		"AWS::SQS::QueuePolicy":            2,
		"AWS::KMS::Key":                    1,
		"AWS::Lambda::EventSourceMapping":  1,
		"AWS::StepFunctions::StateMachine": 1,
	}
}

// runSqlMachine is the README's state machine: a task that runs SQL on the tasker and waits for the callback.
func runSqlMachine(scope constructs.Construct, tasker redshift.SfnRedshiftTasker) awsstepfunctions.StateMachine {
	runSql := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String("RunSql"), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:     tasker.LambdaFunction(),
		IntegrationPattern: awsstepfunctions.IntegrationPattern_WAIT_FOR_TASK_TOKEN,
		Payload: awsstepfunctions.TaskInput_FromObject(&map[string]interface{}{
			"taskToken":    awsstepfunctions.JsonPath_TaskToken(),
			"executionArn": awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Execution.Id")),
			"sqlStatement": sql,
		}),
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Hours(jsii.Number(2))),
	})
	runSql.AddCatch(awsstepfunctions.NewFail(scope, jsii.String("SqlFailed"), nil), &awsstepfunctions.CatchProps{
		Errors: jsii.Strings(*redshift.SfnRedshiftTaskerErrors_STATEMENT_FAILED()),
	})
	return awsstepfunctions.NewStateMachine(scope, jsii.String("Machine"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(runSql),
	})
}

// Place for the RedshiftSqlTask state machine task and the RedshiftSql custom resource once the library has them:
// a stack using both, with the same checks (resource counts, the task's parameters, the function's environment).

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
	clusterTasker = redshift.NewSfnRedshiftTasker(clusterStack, jsii.String("RSTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("etl_user"),
		},
	})
	runSqlMachine(clusterStack, clusterTasker)

	serverlessStack := awscdk.NewStack(app, jsii.String("GoServerlessStack"), nil)
	credentials := awssecretsmanager.Secret_FromSecretCompleteArn(serverlessStack, jsii.String("Credentials"), jsii.String(secretArn))
	serverlessTasker := redshift.NewSfnRedshiftTasker(serverlessStack, jsii.String("AnalyticsTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			WorkgroupName: jsii.String("analytics"), DbName: jsii.String("dev"), Secret: credentials,
		},
	})
	runSqlMachine(serverlessStack, serverlessTasker)

	sharedStack := awscdk.NewStack(app, jsii.String("GoSharedStack"), nil)
	etl = redshift.NewSfnRedshiftTasker(sharedStack, jsii.String("EtlTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("etl_user"),
		},
	})
	reporting = redshift.NewSfnRedshiftTasker(sharedStack, jsii.String("ReportingTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{WorkgroupName: jsii.String("reporting"), DbName: jsii.String("dev")},
		CreateCallbackInfra: jsii.Bool(false),
		ExistingTableObj:    etl.TrackingTable(),
	})

	app.Synth(nil)
	cluster = *assertions.Template_FromStack(clusterStack, nil).ToJSON()
	serverless = *assertions.Template_FromStack(serverlessStack, nil).ToJSON()
	shared = *assertions.Template_FromStack(sharedStack, nil).ToJSON()
}

func resources(t template) map[string]interface{} {
	return t["Resources"].(map[string]interface{})
}

func resourceCounts(t template) map[string]int {
	counts := map[string]int{}
	for _, r := range resources(t) {
		counts[r.(map[string]interface{})["Type"].(string)]++
	}
	return counts
}

// onlyResource returns the logical id and properties of the one resource of that type whose id starts with prefix.
func onlyResource(tb *testing.T, t template, resourceType, prefix string) (string, map[string]interface{}) {
	tb.Helper()
	var ids []string
	var props map[string]interface{}
	for id, r := range resources(t) {
		resource := r.(map[string]interface{})
		if resource["Type"] == resourceType && strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
			props, _ = resource["Properties"].(map[string]interface{})
		}
	}
	if len(ids) != 1 {
		tb.Fatalf("expected one %s %s*, found %v", resourceType, prefix, ids)
	}
	return ids[0], props
}

// asJSON normalizes a value to what encoding/json decodes (numbers as float64, slices as []interface{}).
func asJSON(tb *testing.T, v interface{}) interface{} {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func expectEqual(tb *testing.T, what string, want, got interface{}) {
	tb.Helper()
	if w, g := asJSON(tb, want), asJSON(tb, got); !reflect.DeepEqual(w, g) {
		tb.Errorf("%s:\n want %v\n got  %v", what, w, g)
	}
}

// definition returns the state machine's definition; CloudFormation expressions become ${Token[i]} (returned too).
func definition(tb *testing.T, t template) (map[string]interface{}, []interface{}) {
	tb.Helper()
	_, machine := onlyResource(tb, t, "AWS::StepFunctions::StateMachine", "Machine")
	parts := machine["DefinitionString"].(map[string]interface{})["Fn::Join"].([]interface{})[1].([]interface{})
	var text strings.Builder
	var tokens []interface{}
	for _, part := range parts {
		if s, ok := part.(string); ok {
			text.WriteString(s)
		} else {
			fmt.Fprintf(&text, "${Token[%d]}", len(tokens))
			tokens = append(tokens, part)
		}
	}
	var states map[string]interface{}
	if err := json.Unmarshal([]byte(text.String()), &states); err != nil {
		tb.Fatal(err)
	}
	return states, tokens
}

func checkRunSqlState(tb *testing.T, t template, functionID string) {
	tb.Helper()
	states, tokens := definition(tb, t)
	expectEqual(tb, "StartAt", "RunSql", states["StartAt"])
	runSql := states["States"].(map[string]interface{})["RunSql"].(map[string]interface{})
	expectEqual(tb, "Type", "Task", runSql["Type"])
	expectEqual(tb, "Resource", "arn:${Token[0]}:states:::lambda:invoke.waitForTaskToken", runSql["Resource"])
	expectEqual(tb, "token 0", map[string]interface{}{"Ref": "AWS::Partition"}, tokens[0])
	parameters := runSql["Parameters"].(map[string]interface{})
	expectEqual(tb, "FunctionName", "${Token[1]}", parameters["FunctionName"])
	expectEqual(tb, "token 1", map[string]interface{}{"Fn::GetAtt": []string{functionID, "Arn"}}, tokens[1])
	expectEqual(tb, "Payload", map[string]interface{}{
		"taskToken.$":    "$$.Task.Token",
		"executionArn.$": "$$.Execution.Id",
		"sqlStatement":   sql,
	}, parameters["Payload"])
	expectEqual(tb, "TimeoutSeconds", 7200, runSql["TimeoutSeconds"])
	expectEqual(tb, "Catch", []interface{}{map[string]interface{}{"ErrorEquals": []string{"FAILED"}, "Next": "SqlFailed"}}, runSql["Catch"])
	expectEqual(tb, "SqlFailed", map[string]interface{}{"Type": "Fail"}, states["States"].(map[string]interface{})["SqlFailed"])
}

func environment(tb *testing.T, t template, prefix string) map[string]interface{} {
	tb.Helper()
	_, fn := onlyResource(tb, t, "AWS::Lambda::Function", prefix)
	return fn["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
}

func TestClusterTaskerAndMachine(t *testing.T) {
	expectEqual(t, "resource counts", taskerWithMachine(), resourceCounts(cluster))
	functionID, fn := onlyResource(t, cluster, "AWS::Lambda::Function", "RSTaskStarterFunction")
	tableID, _ := onlyResource(t, cluster, "AWS::DynamoDB::Table", "RSTaskTrackingTable")
	expectEqual(t, "environment", map[string]interface{}{
		"DDB_TABLE_NAME":     map[string]string{"Ref": tableID},
		"CLUSTER_IDENTIFIER": "my-cluster",
		"DATABASE":           "dev",
		"DB_USER":            "etl_user",
		"TTL":                "1",
		"LOG_LEVEL":          "INFO",
	}, environment(t, cluster, "RSTaskStarterFunction"))
	expectEqual(t, "Runtime", "nodejs24.x", fn["Runtime"])
	checkRunSqlState(t, cluster, functionID)
	// The machine may invoke the tasker function (and its versions), nothing else.
	_, policy := onlyResource(t, cluster, "AWS::IAM::Policy", "MachineRoleDefaultPolicy")
	statements := policy["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{})
	if len(statements) != 1 {
		t.Fatalf("machine policy: want 1 statement, got %v", statements)
	}
	statement := statements[0].(map[string]interface{})
	expectEqual(t, "machine policy action", "lambda:InvokeFunction", statement["Action"])
	expectEqual(t, "machine policy first resource", map[string]interface{}{"Fn::GetAtt": []string{functionID, "Arn"}},
		statement["Resource"].([]interface{})[0])
	// The attributes the construct exposes reach Go, typed.
	if clusterTasker.Queue() == nil || clusterTasker.DeadLetterQueue() == nil || clusterTasker.Rule() == nil || clusterTasker.EncryptionKey() == nil {
		t.Error("a default tasker exposes its queue, dead-letter queue, rule and key")
	}
	if *clusterTasker.CompleterFunction().Node().Path() != *clusterTasker.LambdaFunction().Node().Path() {
		t.Error("a default tasker's completer is its starter function")
	}
}

func TestServerlessTaskerWithSecret(t *testing.T) {
	expected := taskerWithMachine()
	expected["AWS::IAM::Policy"] = 4 // + the secret's read grant on the role
	expectEqual(t, "resource counts", expected, resourceCounts(serverless))
	functionID, _ := onlyResource(t, serverless, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction")
	tableID, _ := onlyResource(t, serverless, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable")
	expectEqual(t, "environment", map[string]interface{}{
		"DDB_TABLE_NAME": map[string]string{"Ref": tableID},
		"WORKGROUP_NAME": "analytics",
		"DATABASE":       "dev",
		"SECRET_ARN":     secretArn,
		"TTL":            "1",
		"LOG_LEVEL":      "INFO",
	}, environment(t, serverless, "AnalyticsTaskStarterFunction"))
	_, grant := onlyResource(t, serverless, "AWS::IAM::Policy", "AnalyticsTaskStarterRoleDefaultPolicy")
	expectEqual(t, "secret grant", []interface{}{map[string]interface{}{
		"Action":   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		"Effect":   "Allow",
		"Resource": secretArn,
	}}, grant["PolicyDocument"].(map[string]interface{})["Statement"])
	checkRunSqlState(t, serverless, functionID)
}

func TestSecondTaskerSharesTheCallbackInfrastructure(t *testing.T) {
	counts := resourceCounts(shared)
	for resourceType, want := range map[string]int{
		"AWS::DynamoDB::Table": 1, "AWS::Lambda::Function": 2, "AWS::SQS::Queue": 2, "AWS::Events::Rule": 1,
	} {
		if counts[resourceType] != want {
			t.Errorf("%s: want %d, got %d", resourceType, want, counts[resourceType])
		}
	}
	tableID, _ := onlyResource(t, shared, "AWS::DynamoDB::Table", "EtlTaskTrackingTable")
	env := environment(t, shared, "ReportingTaskStarterFunction")
	expectEqual(t, "DDB_TABLE_NAME", map[string]string{"Ref": tableID}, env["DDB_TABLE_NAME"])
	expectEqual(t, "WORKGROUP_NAME", "reporting", env["WORKGROUP_NAME"])
	// Optional attributes arrive as nil where the tasker created nothing.
	if reporting.Queue() != nil || reporting.CompleterFunction() != nil || reporting.Rule() != nil {
		t.Error("a tasker without callback infrastructure has no queue, completer or rule")
	}
	if etl.Queue() == nil {
		t.Error("the first tasker has its queue")
	}
}

func TestInvalidPropsFailWithTheLibraryMessage(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Invalid"), nil)
	message := func() (message string) {
		defer func() { message = fmt.Sprint(recover()) }()
		redshift.NewSfnRedshiftTasker(stack, jsii.String("RSTask"), &redshift.SfnRedshiftTaskerProps{
			RedshiftTargetProps: &redshift.RedshiftTargetProps{
				ClusterIdentifier: jsii.String("my-cluster"), WorkgroupName: jsii.String("analytics"), DbName: jsii.String("dev"),
			},
		})
		return ""
	}()
	if !strings.Contains(message, "Invalid SfnRedshiftTasker props") || !strings.Contains(message, "got both") {
		t.Errorf("want the library's validation message, got %q", message)
	}
	// Nothing was created.
	if _, ok := (*assertions.Template_FromStack(stack, nil).ToJSON())["Resources"]; ok {
		t.Error("an invalid tasker created resources")
	}
}
