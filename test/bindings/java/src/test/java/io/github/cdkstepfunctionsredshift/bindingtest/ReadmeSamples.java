package io.github.cdkstepfunctionsredshift.bindingtest;

import io.github.cdkstepfunctionsredshift.LogLevel;
import io.github.cdkstepfunctionsredshift.RedshiftSql;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTask;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTaskJsonPathProps;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTaskJsonataProps;
import io.github.cdkstepfunctionsredshift.RedshiftStatementTask;
import io.github.cdkstepfunctionsredshift.RedshiftStatementTaskJsonPathProps;
import io.github.cdkstepfunctionsredshift.RedshiftStatementTaskJsonataProps;
import io.github.cdkstepfunctionsredshift.RedshiftTargetProps;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTasker;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTaskerErrors;
import io.github.cdkstepfunctionsredshift.StatementAction;
import io.github.cdkstepfunctionsredshift.TablePermission;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.MetricOptions;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.secretsmanager.ISecret;
import software.amazon.awscdk.services.secretsmanager.Secret;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.stepfunctions.CatchProps;
import software.amazon.awscdk.services.stepfunctions.Chain;
import software.amazon.awscdk.services.stepfunctions.DefinitionBody;
import software.amazon.awscdk.services.stepfunctions.Errors;
import software.amazon.awscdk.services.stepfunctions.Fail;
import software.amazon.awscdk.services.stepfunctions.JsonPath;
import software.amazon.awscdk.services.stepfunctions.StateMachine;
import software.amazon.awscdk.services.stepfunctions.Timeout;
import software.constructs.Construct;

/**
 * The README's samples in Java, one method per section, in the README's order (the Python forms are what the README
 * shows; these are the same code a Java user writes). A method whose sample declares a {@code tasker} it does not
 * create takes it as an argument.
 */
final class ReadmeSamples {
    static final String SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf";

    private ReadmeSamples() {
    }

    /**
     * The {@code tasker} of the samples that declare one: on a cluster, with a log level and an extra table permission
     * given through the enum-like classes (a constant, and {@code of} for a value held in a string).
     */
    static SfnRedshiftTasker declaredTasker(final Construct scope) {
        return SfnRedshiftTasker.Builder.create(scope, "ReportTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("report-cluster").dbName("dev").dbUser("report_user").build())
                .logLevel(LogLevel.DEBUG)
                .tablePermissions(TablePermission.of("ReadWrite"))
                .build();
    }

    /** A provisioned cluster: a tasker and a state machine whose task runs SQL and waits (JSONPath). */
    static SfnRedshiftTasker provisionedCluster(final Construct scope) {
        SfnRedshiftTasker tasker = SfnRedshiftTasker.Builder.create(scope, "RSTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").dbName("dev").dbUser("etl_user").build())
                .build();

        // A state that runs the SQL and waits until Redshift reports that it ended.
        RedshiftSqlTask refresh = RedshiftSqlTask.jsonPath(scope, "RefreshSales", RedshiftSqlTaskJsonPathProps.builder()
                .tasker(tasker)
                .sql("call refresh_sales_summary()")
                .taskTimeout(Timeout.duration(Duration.hours(2)))
                .build());
        refresh.addCatch(new Fail(scope, "SqlFailed"),
                CatchProps.builder().errors(List.of(SfnRedshiftTaskerErrors.STATEMENT_FAILED)).build());
        StateMachine.Builder.create(scope, "Machine").definitionBody(DefinitionBody.fromChainable(refresh)).build();
        return tasker;
    }

    /** Step Functions, the options: parameters, cancel and describe, JSONata, a transaction, a singleton, results. */
    static StateMachine stepFunctionsOptions(final Construct scope, final SfnRedshiftTasker tasker) {
        // Named parameters (bound by the Data API, never spliced into the SQL), from the state input; a time budget.
        RedshiftSqlTask sales = RedshiftSqlTask.jsonPath(scope, "RegionSales", RedshiftSqlTaskJsonPathProps.builder()
                .tasker(tasker)
                .sql("insert into report select * from sales where region = :region")
                .parameters(Map.of("region", JsonPath.stringAt("$.region")))
                .taskTimeout(Timeout.duration(Duration.minutes(30)))
                .resultPath("$.insert")
                .build());
        // The budget is spent: cancel the statement this execution started last (it keeps running otherwise), then
        // describe it (its status: ABORTED once the cancel took effect).
        Chain cancel = RedshiftStatementTask.jsonPath(scope, "CancelIt", RedshiftStatementTaskJsonPathProps.builder()
                        .tasker(tasker).action(StatementAction.CANCEL).build())
                .next(RedshiftStatementTask.jsonPath(scope, "DescribeIt", RedshiftStatementTaskJsonPathProps.builder()
                        .tasker(tasker).action(StatementAction.DESCRIBE).build()));
        sales.addCatch(cancel, CatchProps.builder().errors(List.of(Errors.TIMEOUT)).build());

        // JSONata; several statements in one transaction; refused (ConcurrentExecution) while the same SQL runs.
        RedshiftSqlTask swap = RedshiftSqlTask.jsonata(scope, "SwapTables", RedshiftSqlTaskJsonataProps.builder()
                .tasker(tasker)
                .sqlStatements(List.of("delete from report_live", "insert into report_live select * from report"))
                .singleton(true)
                .taskTimeout(Timeout.duration(Duration.minutes(30)))
                .build());

        // The first page of the result of the statement this execution started last.
        RedshiftStatementTask rows = RedshiftStatementTask.jsonata(scope, "ReadRows", RedshiftStatementTaskJsonataProps.builder()
                .tasker(tasker)
                .action(StatementAction.FETCH_RESULT)
                .outputs(Map.of("rows", "{% $states.result.Records %}"))
                .build());
        return StateMachine.Builder.create(scope, "Report")
                .definitionBody(DefinitionBody.fromChainable(sales.next(swap).next(rows)))
                .build();
    }

    /** CloudFormation, SQL in a stack: a table, and a view that depends on it and follows its definition. */
    static RedshiftSql sqlInAStack(final Construct scope, final SfnRedshiftTasker tasker) {
        RedshiftSql table = RedshiftSql.Builder.create(scope, "SalesTable")
                .tasker(tasker)
                .onCreate(List.of("create table if not exists sales (id int, region varchar(20))"))
                .onDelete(List.of("drop table if exists sales"))
                .serviceTimeout(Duration.minutes(10))
                .build();
        // onUpdate runs when a property changes: here the view follows a changed definition.
        String view = "create or replace view emea_sales as select * from sales where region = 'EMEA'";
        RedshiftSql.Builder.create(scope, "EmeaSales")
                .tasker(tasker).onCreate(List.of(view)).onUpdate(List.of(view)).onDelete(List.of("drop view if exists emea_sales"))
                .serviceTimeout(Duration.minutes(10))
                .build()
                .getNode().addDependency(table);
        return table;
    }

    /** A Redshift Serverless workgroup with a Secrets Manager secret. */
    static SfnRedshiftTasker serverlessWorkgroup(final Construct scope) {
        ISecret credentials = Secret.fromSecretCompleteArn(scope, "Credentials", SECRET_ARN);
        return SfnRedshiftTasker.Builder.create(scope, "AnalyticsTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .workgroupName("analytics").dbName("dev").secret(credentials).build())
                .build();
    }

    /** Several taskers, one callback infrastructure: {etl, reporting}. */
    static SfnRedshiftTasker[] sharedCallbackInfrastructure(final Construct scope) {
        SfnRedshiftTasker etl = SfnRedshiftTasker.Builder.create(scope, "EtlTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").dbName("dev").dbUser("etl_user").build())
                .build();
        SfnRedshiftTasker reporting = SfnRedshiftTasker.Builder.create(scope, "ReportingTask")
                .redshiftTargetProps(RedshiftTargetProps.builder().workgroupName("reporting").dbName("dev").build())
                .createCallbackInfra(false)
                .existingTableObj(etl.getTrackingTable())
                .build();
        return new SfnRedshiftTasker[] {etl, reporting};
    }

    /** Fast path: a tasker whose starts wait up to 5 seconds for their statements. */
    static SfnRedshiftTasker fastPath(final Construct scope) {
        return SfnRedshiftTasker.Builder.create(scope, "QuickTask")
                .redshiftTargetProps(RedshiftTargetProps.builder().workgroupName("dashboards").dbName("dev").build())
                .fastPathWaitTime(Duration.seconds(5))
                .build();
    }

    /** Metrics and alarms: actions on the default alarms, and alarms of one's own on the tasker's metrics. */
    static SfnRedshiftTasker metricsAndAlarms(final Construct scope) {
        SfnRedshiftTasker tasker = SfnRedshiftTasker.Builder.create(scope, "RSTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").dbName("dev").dbUser("etl_user").build())
                .createDashboard(true)
                .build();

        // The default alarms have no actions: tell someone.
        Topic onCall = new Topic(scope, "OnCall");
        tasker.getDeadLetterQueueAlarm().addAlarmAction(new SnsAction(onCall));
        tasker.getCallbackFailuresAlarm().addAlarmAction(new SnsAction(onCall));

        // Alarms of your own: failed statements, slow statements (p99 over 15 minutes).
        Alarm.Builder.create(scope, "FailedStatements")
                .metric(tasker.metricStatementsFailed())
                .threshold(1)
                .evaluationPeriods(1)
                .treatMissingData(TreatMissingData.NOT_BREACHING)
                .build();
        Alarm.Builder.create(scope, "SlowStatements")
                .metric(tasker.metricStatementDuration(MetricOptions.builder()
                        .statistic("p99").period(Duration.minutes(15)).build()))
                .threshold(Duration.minutes(10).toMilliseconds())
                .evaluationPeriods(1)
                .build();
        return tasker;
    }
}
