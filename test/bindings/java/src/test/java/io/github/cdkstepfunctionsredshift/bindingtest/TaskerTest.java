package io.github.cdkstepfunctionsredshift.bindingtest;

import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.DEFAULT_TASKER;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.ROLE_POLICY;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.STATE_MACHINE;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.TASKER_WITHOUT_CALLBACK_INFRA;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.arn;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.assertStates;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.counts;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.environment;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.getArn;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.map;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.onlyId;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.policyStatements;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.properties;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.resource;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.resourceCounts;
import static io.github.cdkstepfunctionsredshift.bindingtest.Templates.states;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.cdkstepfunctionsredshift.LogLevel;
import io.github.cdkstepfunctionsredshift.RedshiftSql;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTask;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTaskJsonPathProps;
import io.github.cdkstepfunctionsredshift.RedshiftSqlTaskJsonataProps;
import io.github.cdkstepfunctionsredshift.RedshiftStatementTask;
import io.github.cdkstepfunctionsredshift.RedshiftStatementTaskJsonPathProps;
import io.github.cdkstepfunctionsredshift.RedshiftTargetProps;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTasker;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTaskerErrors;
import io.github.cdkstepfunctionsredshift.StatementAction;
import io.github.cdkstepfunctionsredshift.TablePermission;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.iam.Grant;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.stepfunctions.CatchProps;
import software.amazon.awscdk.services.stepfunctions.DefinitionBody;
import software.amazon.awscdk.services.stepfunctions.Fail;
import software.amazon.awscdk.services.stepfunctions.IntegrationPattern;
import software.amazon.awscdk.services.stepfunctions.JsonPath;
import software.amazon.awscdk.services.stepfunctions.StateMachine;
import software.amazon.awscdk.services.stepfunctions.TaskInput;
import software.amazon.awscdk.services.stepfunctions.Timeout;
import software.amazon.awscdk.services.stepfunctions.tasks.LambdaInvoke;
import software.constructs.Construct;

/**
 * cdk-stepfunctions-redshift used from Java: the README's samples ({@link ReadmeSamples}) in four stacks, and a state
 * machine written with {@code LambdaInvoke} and the raw payload of the invocation API, synthesized and checked.
 *
 * <p>The cloud assembly is written to $BINDINGS_CDK_OUT/java when that variable is set (the bindings run lints it
 * with cfn-lint), else to a temporary directory removed afterwards.
 */
class TaskerTest {
    private static final String WAIT_FOR_TASK_TOKEN = "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken";
    /** The retries every task of the library adds: the Lambda service errors, then the Data API's retryable errors. */
    private static final List<Object> RETRIES = List.of(
            map("ErrorEquals", List.of("Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
                    "Lambda.AWSLambdaException", "Lambda.SdkClientException"),
                    "IntervalSeconds", 2, "MaxAttempts", 6, "BackoffRate", 2),
            map("ErrorEquals", SfnRedshiftTaskerErrors.RETRYABLE_DATA_API_ERRORS,
                    "IntervalSeconds", 10, "MaxAttempts", 5, "BackoffRate", 2));
    /** A RedshiftSqlTask that waits for its callback also retries a serializable isolation violation (a new statement). */
    private static final List<Object> CALLBACK_RETRIES = List.of(RETRIES.get(0), RETRIES.get(1),
            map("ErrorEquals", List.of(SfnRedshiftTaskerErrors.SERIALIZATION_CONFLICT),
                    "IntervalSeconds", 2, "MaxAttempts", 3, "BackoffRate", 2, "JitterStrategy", "FULL"));

    private static Path outdir;
    private static boolean temporary;
    private static Map<String, Object> cluster;
    private static Map<String, Object> serverless;
    private static Map<String, Object> options;
    private static Map<String, Object> shared;
    private static Map<String, Object> observed;
    private static SfnRedshiftTasker watched;
    private static SfnRedshiftTasker clusterTasker;
    private static Grant grant;
    private static RedshiftSql salesTable;
    private static SfnRedshiftTasker[] etlAndReporting;

    /** The invocation API's payload written out with LambdaInvoke, as a state machine written without the library's tasks does. */
    private static StateMachine rawPayloadMachine(final Construct scope, final SfnRedshiftTasker tasker) {
        Map<String, Object> payload = new HashMap<>();
        payload.put("taskToken", JsonPath.getTaskToken());
        payload.put("executionArn", JsonPath.stringAt("$$.Execution.Id"));
        payload.put("sqlStatement", "call refresh_sales_summary()");
        LambdaInvoke runSql = LambdaInvoke.Builder.create(scope, "RunSql")
                .lambdaFunction(tasker.getLambdaFunction())
                .integrationPattern(IntegrationPattern.WAIT_FOR_TASK_TOKEN)
                .payload(TaskInput.fromObject(payload))
                .taskTimeout(Timeout.duration(Duration.hours(2)))
                .build();
        runSql.addCatch(new Fail(scope, "RawSqlFailed"),
                CatchProps.builder().errors(List.of(SfnRedshiftTaskerErrors.STATEMENT_FAILED)).build());
        return StateMachine.Builder.create(scope, "RawMachine").definitionBody(DefinitionBody.fromChainable(runSql)).build();
    }

    @BeforeAll
    static void synthesize() throws IOException {
        String base = System.getenv("BINDINGS_CDK_OUT");
        temporary = base == null || base.isEmpty();
        outdir = temporary ? Files.createTempDirectory("cdk-sfn-redshift-java-") : Path.of(base, "java");
        App app = App.Builder.create().outdir(outdir.toString()).build();

        Stack clusterStack = new Stack(app, "JavaClusterStack");
        clusterTasker = ReadmeSamples.provisionedCluster(clusterStack);
        // A function of the app that invokes the tasker itself gets the permission from grantInvoke.
        Role reportingRole = Role.Builder.create(clusterStack, "ReportingRole")
                .assumedBy(new ServicePrincipal("lambda.amazonaws.com")).build();
        grant = clusterTasker.grantInvoke(reportingRole);

        Stack serverlessStack = new Stack(app, "JavaServerlessStack");
        SfnRedshiftTasker serverlessTasker = ReadmeSamples.serverlessWorkgroup(serverlessStack);
        salesTable = ReadmeSamples.sqlInAStack(serverlessStack, serverlessTasker);
        rawPayloadMachine(serverlessStack, serverlessTasker);

        Stack optionsStack = new Stack(app, "JavaOptionsStack");
        ReadmeSamples.stepFunctionsOptions(optionsStack, ReadmeSamples.declaredTasker(optionsStack));

        Stack sharedStack = new Stack(app, "JavaSharedStack");
        etlAndReporting = ReadmeSamples.sharedCallbackInfrastructure(sharedStack);

        Stack observedStack = new Stack(app, "JavaObservedStack");
        ReadmeSamples.fastPath(observedStack);
        watched = ReadmeSamples.metricsAndAlarms(observedStack);

        app.synth();
        cluster = Template.fromStack(clusterStack).toJSON();
        serverless = Template.fromStack(serverlessStack).toJSON();
        options = Template.fromStack(optionsStack).toJSON();
        shared = Template.fromStack(sharedStack).toJSON();
        observed = Template.fromStack(observedStack).toJSON();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (!temporary) {
            return;
        }
        try (Stream<Path> paths = Files.walk(outdir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.delete(path);
            }
        }
    }

    private static List<Object> invokeOnly(final String functionId) {
        return List.of(map("Action", "lambda:InvokeFunction", "Effect", "Allow", "Resource", getArn(functionId)));
    }

    @Test
    void clusterTaskerMachineAndGrant() throws IOException {
        assertEquals(counts(DEFAULT_TASKER, STATE_MACHINE, Map.of("AWS::IAM::Role", 1), ROLE_POLICY), resourceCounts(cluster));
        String functionId = onlyId(cluster, "AWS::Lambda::Function", "RSTaskStarterFunction");
        String tableId = onlyId(cluster, "AWS::DynamoDB::Table", "RSTaskTrackingTable");
        assertEquals(map(
                "DDB_TABLE_NAME", Map.of("Ref", tableId),
                "CLUSTER_IDENTIFIER", "my-cluster",
                "DATABASE", "dev",
                "DB_USER", "etl_user",
                "TTL", "1",
                "LOG_LEVEL", "INFO",
                "FAST_PATH_WAIT_SECONDS", "2"), environment(cluster, "RSTaskStarterFunction"));
        assertEquals("nodejs24.x", properties(cluster, "AWS::Lambda::Function", "RSTaskStarterFunction").get("Runtime"));
        // RedshiftSqlTask.jsonPath: the callback task, its payload, time budget, retries and catch.
        Map<String, Object> machine = states(cluster, "Machine");
        assertEquals("RefreshSales", machine.get("StartAt"));
        assertStates(map(
                "RefreshSales", map(
                        "Type", "Task",
                        "Resource", WAIT_FOR_TASK_TOKEN,
                        "Parameters", map("FunctionName", arn(functionId), "Payload", map(
                                "sqlStatement", "call refresh_sales_summary()",
                                "taskToken.$", "$$.Task.Token",
                                "executionArn.$", "$$.Execution.Id")),
                        "TimeoutSeconds", 7200,
                        "Retry", CALLBACK_RETRIES,
                        "Catch", List.of(map("ErrorEquals", List.of("FAILED"), "Next", "SqlFailed")),
                        "End", true),
                "SqlFailed", map("Type", "Fail")), machine);
        // The machine may invoke the tasker function, nothing else; so may the role given grantInvoke.
        assertEquals(invokeOnly(functionId), policyStatements(cluster, "MachineRoleDefaultPolicy"));
        assertEquals(invokeOnly(functionId), policyStatements(cluster, "ReportingRoleDefaultPolicy"));
        assertTrue(grant.getSuccess());
        // The attributes the construct exposes reach Java, typed.
        assertNotNull(clusterTasker.getQueue());
        assertNotNull(clusterTasker.getDeadLetterQueue());
        assertNotNull(clusterTasker.getRule());
        assertNotNull(clusterTasker.getEncryptionKey());
        assertEquals(clusterTasker.getLambdaFunction().getNode().getPath(), clusterTasker.getCompleterFunction().getNode().getPath());
    }

    @Test
    @SuppressWarnings("unchecked")
    void serverlessTaskerSqlResourcesAndRawPayload() throws IOException {
        // + the secret's read grant on the starter role, the two custom resources, the LambdaInvoke machine.
        assertEquals(counts(DEFAULT_TASKER, ROLE_POLICY, Map.of("Custom::RedshiftSql", 2), STATE_MACHINE), resourceCounts(serverless));
        String functionId = onlyId(serverless, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction");
        String tableId = onlyId(serverless, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable");
        assertEquals(map(
                "DDB_TABLE_NAME", Map.of("Ref", tableId),
                "WORKGROUP_NAME", "analytics",
                "DATABASE", "dev",
                "SECRET_ARN", ReadmeSamples.SECRET_ARN,
                "TTL", "1",
                "LOG_LEVEL", "INFO",
                "FAST_PATH_WAIT_SECONDS", "2"), environment(serverless, "AnalyticsTaskStarterFunction"));
        assertEquals(List.of(map(
                "Action", List.of("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                "Effect", "Allow",
                "Resource", ReadmeSamples.SECRET_ARN)), policyStatements(serverless, "AnalyticsTaskStarterRoleDefaultPolicy"));

        // RedshiftSql: the tasker's function as service token, the SQL as properties, the callback infrastructure first.
        Map<String, Object> table = resource(serverless, "Custom::RedshiftSql", "SalesTable");
        assertEquals(map(
                "ServiceToken", getArn(functionId),
                "ServiceTimeout", "600",
                "OnCreate", "create table if not exists sales (id int, region varchar(20))",
                "OnDelete", "drop table if exists sales"), table.get("Properties"));
        List<String> dependsOn = (List<String>) table.get("DependsOn");
        assertTrue(dependsOn.contains(onlyId(serverless, "AWS::Lambda::EventSourceMapping", "AnalyticsTask")), dependsOn.toString());
        assertFalse(dependsOn.contains(functionId), dependsOn.toString());
        String view = "create or replace view emea_sales as select * from sales where region = 'EMEA'";
        Map<String, Object> emeaSales = resource(serverless, "Custom::RedshiftSql", "EmeaSales");
        assertEquals(map(
                "ServiceToken", getArn(functionId),
                "ServiceTimeout", "600",
                "OnCreate", view,
                "OnUpdate", view,
                "OnDelete", "drop view if exists emea_sales"), emeaSales.get("Properties"));
        assertTrue(((List<String>) emeaSales.get("DependsOn")).contains("SalesTable"));
        assertEquals("JavaServerlessStack/SalesTable/Default", salesTable.getCustomResource().getNode().getPath());

        // LambdaInvoke with the raw payload, as the invocation API documents it.
        Map<String, Object> runSql = (Map<String, Object>) states(serverless, "RawMachine").get("States");
        Map<String, Object> task = (Map<String, Object>) runSql.get("RunSql");
        assertEquals(WAIT_FOR_TASK_TOKEN, task.get("Resource"));
        assertEquals(map("FunctionName", arn(functionId), "Payload", map(
                "taskToken.$", "$$.Task.Token",
                "executionArn.$", "$$.Execution.Id",
                "sqlStatement", "call refresh_sales_summary()")), task.get("Parameters"));
        assertEquals(7200, task.get("TimeoutSeconds"));
        assertEquals(List.of(map("ErrorEquals", List.of("FAILED"), "Next", "RawSqlFailed")), task.get("Catch"));
        // LambdaInvoke grants the function and its versions.
        Map<String, Object> statement = (Map<String, Object>) policyStatements(serverless, "RawMachineRoleDefaultPolicy").get(0);
        assertEquals("lambda:InvokeFunction", statement.get("Action"));
        assertTrue(((List<Object>) statement.get("Resource")).contains(getArn(functionId)));
    }

    @Test
    @SuppressWarnings("unchecked")
    void optionsMachineInBothQueryLanguages() throws IOException {
        // + the extra table grant (TablePermission) on the starter role.
        assertEquals(counts(DEFAULT_TASKER, STATE_MACHINE, ROLE_POLICY), resourceCounts(options));
        String functionId = onlyId(options, "AWS::Lambda::Function", "ReportTaskStarterFunction");
        String tableId = onlyId(options, "AWS::DynamoDB::Table", "ReportTaskTrackingTable");
        assertEquals("DEBUG", environment(options, "ReportTaskStarterFunction").get("LOG_LEVEL"));
        // TablePermission.of("ReadWrite"): table.grantReadWriteData on the starter role, beyond the handler's own grant.
        List<Object> grants = policyStatements(options, "ReportTaskStarterRoleDefaultPolicy");
        assertEquals(1, grants.size());
        Map<String, Object> tableGrant = (Map<String, Object>) grants.get(0);
        assertTrue(((List<Object>) tableGrant.get("Resource")).contains(getArn(tableId)));
        assertTrue(((List<Object>) tableGrant.get("Action")).containsAll(
                List.of("dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:PutItem")));

        String function = arn(functionId);
        Map<String, Object> machine = states(options, "Report");
        assertEquals("RegionSales", machine.get("StartAt"));
        assertStates(map(
                // JSONPath: Parameters, the token and the execution from the context object, a parameter from the input.
                "RegionSales", map(
                        "Type", "Task",
                        "Resource", WAIT_FOR_TASK_TOKEN,
                        "Parameters", map("FunctionName", function, "Payload", map(
                                "sqlStatement", "insert into report select * from sales where region = :region",
                                "parameters", List.of(map("name", "region", "value.$", "$.region")),
                                "taskToken.$", "$$.Task.Token",
                                "executionArn.$", "$$.Execution.Id")),
                        "TimeoutSeconds", 1800,
                        "ResultPath", "$.insert",
                        "Retry", CALLBACK_RETRIES,
                        "Catch", List.of(map("ErrorEquals", List.of("States.Timeout"), "Next", "CancelIt")),
                        "Next", "SwapTables"),
                // RedshiftStatementTask: a plain invocation of the function with the action and statementId LATEST.
                "CancelIt", map(
                        "Type", "Task",
                        "Resource", function,
                        "Parameters", map("action", "cancelStatement", "statementId", "LATEST", "executionArn.$", "$$.Execution.Id"),
                        "Retry", RETRIES,
                        "Next", "DescribeIt"),
                "DescribeIt", map(
                        "Type", "Task",
                        "Resource", function,
                        "Parameters", map("action", "describeStatement", "statementId", "LATEST", "executionArn.$", "$$.Execution.Id"),
                        "Retry", RETRIES,
                        "End", true),
                // JSONata: Arguments, the token and the execution as JSONata expressions.
                "SwapTables", map(
                        "Type", "Task",
                        "QueryLanguage", "JSONata",
                        "Resource", WAIT_FOR_TASK_TOKEN,
                        "Arguments", map("FunctionName", function, "Payload", map(
                                "sqlStatements", List.of("delete from report_live", "insert into report_live select * from report"),
                                "action", "executeSingletonStatement",
                                "taskToken", "{% $states.context.Task.Token %}",
                                "executionArn", "{% $states.context.Execution.Id %}")),
                        "TimeoutSeconds", 1800,
                        "Retry", CALLBACK_RETRIES,
                        "Next", "ReadRows"),
                "ReadRows", map(
                        "Type", "Task",
                        "QueryLanguage", "JSONata",
                        "Resource", function,
                        "Arguments", map("action", "getStatementResult", "statementId", "LATEST",
                                "executionArn", "{% $states.context.Execution.Id %}"),
                        "Output", map("rows", "{% $states.result.Records %}"),
                        "Retry", RETRIES,
                        "End", true)), machine);
        assertEquals(invokeOnly(functionId), policyStatements(options, "ReportRoleDefaultPolicy"));
    }

    @Test
    void fastPathMetricsAndAlarms() {
        assertEquals("5", environment(observed, "QuickTaskStarterFunction").get("FAST_PATH_WAIT_SECONDS"));
        // Two default alarms per tasker, and the sample's two.
        assertEquals(6, resourceCounts(observed).get("AWS::CloudWatch::Alarm"));
        assertEquals(1, resourceCounts(observed).get("AWS::CloudWatch::Dashboard"));
        Metric failed = watched.metricStatementsFailed();
        assertEquals(List.of("CdkStepFunctionsRedshift", "StatementsFailed", "Sum"),
                List.of(failed.getNamespace(), failed.getMetricName(), failed.getStatistic()));
        assertEquals("ApproximateNumberOfMessagesVisible", watched.metricDeadLetterMessages().getMetricName());
        assertNotNull(watched.getDashboard());
        assertNotNull(watched.getDeadLetterQueueAlarm());
    }

    @Test
    void secondTaskerSharesTheCallbackInfrastructure() {
        assertEquals(counts(DEFAULT_TASKER, TASKER_WITHOUT_CALLBACK_INFRA), resourceCounts(shared));
        String tableId = onlyId(shared, "AWS::DynamoDB::Table", "EtlTaskTrackingTable");
        Map<String, Object> env = environment(shared, "ReportingTaskStarterFunction");
        assertEquals(Map.of("Ref", tableId), env.get("DDB_TABLE_NAME"));
        assertEquals("reporting", env.get("WORKGROUP_NAME"));
        // Optional attributes arrive as null where the tasker created nothing.
        SfnRedshiftTasker etl = etlAndReporting[0];
        SfnRedshiftTasker reporting = etlAndReporting[1];
        assertNull(reporting.getQueue());
        assertNull(reporting.getCompleterFunction());
        assertNull(reporting.getRule());
        assertNotNull(etl.getQueue());
    }

    @Test
    void enumLikeClasses() {
        assertEquals("DEBUG", LogLevel.DEBUG.getValue());
        assertEquals("debug", LogLevel.of("debug").getValue());
        assertEquals("WARN", LogLevel.WARN.toString());
        assertEquals(TablePermission.READ_WRITE.getValue(), TablePermission.of("ReadWrite").getValue());
        assertEquals(List.of("describeStatement", "cancelStatement", "getStatementResult"), Stream.of(
                StatementAction.DESCRIBE, StatementAction.CANCEL, StatementAction.FETCH_RESULT)
                .map(StatementAction::getValue).collect(Collectors.toList()));
    }

    /** The library compares the action with StatementAction.FETCH_RESULT by identity: the Java constant is that object. */
    @Test
    void aStatementActionReadInJavaIsTheLibraryObject(@TempDir final Path scratch) {
        Stack stack = new Stack(App.Builder.create().outdir(scratch.toString()).build(), "Actions");
        SfnRedshiftTasker tasker = SfnRedshiftTasker.Builder.create(stack, "Tasker")
                .redshiftTargetProps(RedshiftTargetProps.builder().clusterIdentifier("my-cluster").dbName("dev").build())
                .build();
        RedshiftStatementTask.jsonPath(stack, "NextPage", RedshiftStatementTaskJsonPathProps.builder()
                .tasker(tasker).action(StatementAction.FETCH_RESULT).nextToken("token").build());
        RuntimeException error = assertThrows(RuntimeException.class, () -> RedshiftStatementTask.jsonPath(stack, "Cancel",
                RedshiftStatementTaskJsonPathProps.builder().tasker(tasker).action(StatementAction.CANCEL).nextToken("token").build()));
        assertTrue(error.getMessage().contains("nextToken pages a result"), error.getMessage());
    }

    @Test
    void invalidPropsFailWithTheLibraryMessage(@TempDir final Path scratch) {
        Stack stack = new Stack(App.Builder.create().outdir(scratch.toString()).build(), "Invalid");
        RuntimeException error = assertThrows(RuntimeException.class, () -> SfnRedshiftTasker.Builder.create(stack, "RSTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").workgroupName("analytics").dbName("dev").build())
                .build());
        assertTrue(error.getMessage().contains("Invalid SfnRedshiftTasker props"), error.getMessage());
        assertTrue(error.getMessage().contains("got both"), error.getMessage());
        SfnRedshiftTasker tasker = SfnRedshiftTasker.Builder.create(stack, "Valid")
                .redshiftTargetProps(RedshiftTargetProps.builder().clusterIdentifier("my-cluster").dbName("dev").build())
                .build();
        RuntimeException taskError = assertThrows(RuntimeException.class, () -> RedshiftSqlTask.jsonata(stack, "Both",
                RedshiftSqlTaskJsonataProps.builder().tasker(tasker).sql("select 1").sqlStatements(List.of("select 2")).build()));
        assertTrue(taskError.getMessage().contains("Invalid RedshiftSqlTask props"), taskError.getMessage());
        assertTrue(taskError.getMessage().contains("got both"), taskError.getMessage());
        // The library's errors reach Java as jsii's unchecked exception: match on the message.
        assertEquals("software.amazon.jsii.JsiiError", error.getClass().getName());
        // A missing required prop is the binding's error, before the library sees the props.
        NullPointerException missing = assertThrows(NullPointerException.class,
                () -> RedshiftSqlTaskJsonPathProps.builder().sql("select 1").build());
        assertEquals("tasker is required", missing.getMessage());
        // Nothing of the failed constructs was created.
        assertTrue(Templates.resources(Template.fromStack(stack).toJSON()).keySet().stream().allMatch(id -> id.startsWith("Valid")));
    }
}
