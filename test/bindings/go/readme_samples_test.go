// The README's samples in Go, one function per section, in the README's order (the Python forms are what the README
// shows; these are the same code a Go user writes). A function whose sample declares a `tasker` it does not create
// takes it as an argument.
package bindingtest

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	redshift "github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go/cdkstepfunctionsredshift"
)

const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf"

// declaredTasker is the `tasker` of the samples that declare one: on a cluster, with a log level and an extra table
// permission given through the enum-like classes (a constant, and Of for a value held in a string).
func declaredTasker(scope constructs.Construct) redshift.SfnRedshiftTasker {
	return redshift.NewSfnRedshiftTasker(scope, jsii.String("ReportTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("report-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("report_user"),
		},
		LogLevel:         redshift.LogLevel_DEBUG(),
		TablePermissions: redshift.TablePermission_Of(jsii.String("ReadWrite")),
	})
}

// provisionedCluster: a tasker and a state machine whose task runs SQL and waits (JSONPath).
func provisionedCluster(scope constructs.Construct) redshift.SfnRedshiftTasker {
	tasker := redshift.NewSfnRedshiftTasker(scope, jsii.String("RSTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("etl_user"),
		},
	})

	// A state that runs the SQL and waits until Redshift reports that it ended.
	refresh := redshift.RedshiftSqlTask_JsonPath(scope, jsii.String("RefreshSales"), &redshift.RedshiftSqlTaskJsonPathProps{
		Tasker:      tasker,
		Sql:         jsii.String("call refresh_sales_summary()"),
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Hours(jsii.Number(2))),
	})
	refresh.AddCatch(awsstepfunctions.NewFail(scope, jsii.String("SqlFailed"), nil), &awsstepfunctions.CatchProps{
		Errors: &[]*string{redshift.SfnRedshiftTaskerErrors_STATEMENT_FAILED()},
	})
	awsstepfunctions.NewStateMachine(scope, jsii.String("Machine"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(refresh),
	})
	return tasker
}

// stepFunctionsOptions: parameters, cancel and describe, JSONata, a transaction, a singleton, results.
func stepFunctionsOptions(scope constructs.Construct, tasker redshift.SfnRedshiftTasker) awsstepfunctions.StateMachine {
	// Named parameters (bound by the Data API, never spliced into the SQL), from the state input; a time budget.
	sales := redshift.RedshiftSqlTask_JsonPath(scope, jsii.String("RegionSales"), &redshift.RedshiftSqlTaskJsonPathProps{
		Tasker:      tasker,
		Sql:         jsii.String("insert into report select * from sales where region = :region"),
		Parameters:  &map[string]*string{"region": awsstepfunctions.JsonPath_StringAt(jsii.String("$.region"))},
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Minutes(jsii.Number(30))),
		ResultPath:  jsii.String("$.insert"),
	})
	// The budget is spent: cancel the statement this execution started last (it keeps running otherwise), then
	// describe it (its status: ABORTED once the cancel took effect).
	cancel := redshift.RedshiftStatementTask_JsonPath(scope, jsii.String("CancelIt"), &redshift.RedshiftStatementTaskJsonPathProps{
		Tasker: tasker, Action: redshift.StatementAction_CANCEL(),
	}).Next(redshift.RedshiftStatementTask_JsonPath(scope, jsii.String("DescribeIt"), &redshift.RedshiftStatementTaskJsonPathProps{
		Tasker: tasker, Action: redshift.StatementAction_DESCRIBE(),
	}))
	sales.AddCatch(cancel, &awsstepfunctions.CatchProps{Errors: &[]*string{awsstepfunctions.Errors_TIMEOUT()}})

	// JSONata; several statements in one transaction; refused (ConcurrentExecution) while the same SQL runs.
	swap := redshift.RedshiftSqlTask_Jsonata(scope, jsii.String("SwapTables"), &redshift.RedshiftSqlTaskJsonataProps{
		Tasker:        tasker,
		SqlStatements: jsii.Strings("delete from report_live", "insert into report_live select * from report"),
		Singleton:     jsii.Bool(true),
		TaskTimeout:   awsstepfunctions.Timeout_Duration(awscdk.Duration_Minutes(jsii.Number(30))),
	})

	// The first page of the result of the statement this execution started last.
	rows := redshift.RedshiftStatementTask_Jsonata(scope, jsii.String("ReadRows"), &redshift.RedshiftStatementTaskJsonataProps{
		Tasker:  tasker,
		Action:  redshift.StatementAction_FETCH_RESULT(),
		Outputs: map[string]interface{}{"rows": "{% $states.result.Records %}"},
	})
	return awsstepfunctions.NewStateMachine(scope, jsii.String("Report"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(sales.Next(swap).Next(rows)),
	})
}

// sqlInAStack: a table, and a view that depends on it and follows its definition.
func sqlInAStack(scope constructs.Construct, tasker redshift.SfnRedshiftTasker) redshift.RedshiftSql {
	table := redshift.NewRedshiftSql(scope, jsii.String("SalesTable"), &redshift.RedshiftSqlProps{
		Tasker:         tasker,
		OnCreate:       jsii.Strings("create table if not exists sales (id int, region varchar(20))"),
		OnDelete:       jsii.Strings("drop table if exists sales"),
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(10)),
	})
	// OnUpdate runs when a property changes: here the view follows a changed definition.
	view := "create or replace view emea_sales as select * from sales where region = 'EMEA'"
	redshift.NewRedshiftSql(scope, jsii.String("EmeaSales"), &redshift.RedshiftSqlProps{
		Tasker: tasker, OnCreate: jsii.Strings(view), OnUpdate: jsii.Strings(view), OnDelete: jsii.Strings("drop view if exists emea_sales"),
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(10)),
	}).Node().AddDependency(table)
	return table
}

// serverlessWorkgroup: a Redshift Serverless workgroup with a Secrets Manager secret.
func serverlessWorkgroup(scope constructs.Construct) redshift.SfnRedshiftTasker {
	credentials := awssecretsmanager.Secret_FromSecretCompleteArn(scope, jsii.String("Credentials"), jsii.String(secretArn))
	return redshift.NewSfnRedshiftTasker(scope, jsii.String("AnalyticsTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			WorkgroupName: jsii.String("analytics"), DbName: jsii.String("dev"), Secret: credentials,
		},
	})
}

// sharedCallbackInfrastructure: several taskers, one callback infrastructure.
func sharedCallbackInfrastructure(scope constructs.Construct) (etl, reporting redshift.SfnRedshiftTasker) {
	etl = redshift.NewSfnRedshiftTasker(scope, jsii.String("EtlTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("etl_user"),
		},
	})
	reporting = redshift.NewSfnRedshiftTasker(scope, jsii.String("ReportingTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{WorkgroupName: jsii.String("reporting"), DbName: jsii.String("dev")},
		CreateCallbackInfra: jsii.Bool(false),
		ExistingTableObj:    etl.TrackingTable(),
	})
	return etl, reporting
}

// fastPath: a tasker whose starts wait up to 5 seconds for their statements.
func fastPath(scope constructs.Construct) redshift.SfnRedshiftTasker {
	return redshift.NewSfnRedshiftTasker(scope, jsii.String("QuickTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{WorkgroupName: jsii.String("dashboards"), DbName: jsii.String("dev")},
		FastPathWaitTime:    awscdk.Duration_Seconds(jsii.Number(5)),
	})
}

// metricsAndAlarms: actions on the default alarms, and alarms of one's own on the tasker's metrics.
func metricsAndAlarms(scope constructs.Construct) redshift.SfnRedshiftTasker {
	tasker := redshift.NewSfnRedshiftTasker(scope, jsii.String("RSTask"), &redshift.SfnRedshiftTaskerProps{
		RedshiftTargetProps: &redshift.RedshiftTargetProps{
			ClusterIdentifier: jsii.String("my-cluster"), DbName: jsii.String("dev"), DbUser: jsii.String("etl_user"),
		},
		CreateDashboard: jsii.Bool(true),
	})

	// The default alarms have no actions: tell someone.
	onCall := awssns.NewTopic(scope, jsii.String("OnCall"), nil)
	tasker.DeadLetterQueueAlarm().AddAlarmAction(awscloudwatchactions.NewSnsAction(onCall))
	tasker.CallbackFailuresAlarm().AddAlarmAction(awscloudwatchactions.NewSnsAction(onCall))

	// Alarms of your own: failed statements, slow statements (p99 over 15 minutes).
	awscloudwatch.NewAlarm(scope, jsii.String("FailedStatements"), &awscloudwatch.AlarmProps{
		Metric:            tasker.MetricStatementsFailed(nil),
		Threshold:         jsii.Number(1),
		EvaluationPeriods: jsii.Number(1),
		TreatMissingData:  awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	awscloudwatch.NewAlarm(scope, jsii.String("SlowStatements"), &awscloudwatch.AlarmProps{
		Metric: tasker.MetricStatementDuration(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("p99"), Period: awscdk.Duration_Minutes(jsii.Number(15)),
		}),
		Threshold:         awscdk.Duration_Minutes(jsii.Number(10)).ToMilliseconds(nil),
		EvaluationPeriods: jsii.Number(1),
	})
	return tasker
}
