package io.github.cdkstepfunctionsredshift.bindingtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.cdkstepfunctionsredshift.RedshiftTargetProps;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTasker;
import io.github.cdkstepfunctionsredshift.SfnRedshiftTaskerErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.secretsmanager.ISecret;
import software.amazon.awscdk.services.secretsmanager.Secret;
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
 * cdk-stepfunctions-redshift used from Java: the README's taskers and state machine, synthesized and checked.
 *
 * <p>The cloud assembly is written to $BINDINGS_CDK_OUT/java when that variable is set (the bindings run lints it
 * with cfn-lint), else to a temporary directory removed afterwards.
 */
class TaskerTest {
    private static final String SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf";
    private static final String SQL = "call refresh_sales_summary()";

    private static Path outdir;
    private static boolean temporary;
    private static Map<String, Object> cluster;
    private static Map<String, Object> serverless;
    private static Map<String, Object> shared;
    private static SfnRedshiftTasker clusterTasker;
    private static SfnRedshiftTasker etl;
    private static SfnRedshiftTasker reporting;

    /** The resources of one tasker with its callback infrastructure, plus the state machine, its role and policy. */
    private static Map<String, Integer> taskerWithMachine() {
        Map<String, Integer> counts = new HashMap<>();
        counts.put("AWS::DynamoDB::Table", 1);
        counts.put("AWS::Lambda::Function", 1);
        counts.put("AWS::IAM::Role", 2);
        counts.put("AWS::IAM::Policy", 3);
        counts.put("AWS::Logs::LogGroup", 1);
        counts.put("AWS::Events::Rule", 1);
        counts.put("AWS::SQS::Queue", 2);
        counts.put("AWS::SQS::QueuePolicy", 2);
        counts.put("AWS::KMS::Key", 1);
        counts.put("AWS::Lambda::EventSourceMapping", 1);
        counts.put("AWS::StepFunctions::StateMachine", 1);
        return counts;
    }

    /** The README's state machine: a task that runs SQL on the tasker and waits for the callback. */
    private static StateMachine runSqlMachine(final Construct scope, final SfnRedshiftTasker tasker) {
        Map<String, Object> payload = new HashMap<>();
        payload.put("taskToken", JsonPath.getTaskToken());
        payload.put("executionArn", JsonPath.stringAt("$$.Execution.Id"));
        payload.put("sqlStatement", SQL);
        LambdaInvoke runSql = LambdaInvoke.Builder.create(scope, "RunSql")
                .lambdaFunction(tasker.getLambdaFunction())
                .integrationPattern(IntegrationPattern.WAIT_FOR_TASK_TOKEN)
                .payload(TaskInput.fromObject(payload))
                .taskTimeout(Timeout.duration(Duration.hours(2)))
                .build();
        runSql.addCatch(new Fail(scope, "SqlFailed"),
                CatchProps.builder().errors(List.of(SfnRedshiftTaskerErrors.STATEMENT_FAILED)).build());
        return StateMachine.Builder.create(scope, "Machine")
                .definitionBody(DefinitionBody.fromChainable(runSql))
                .build();
    }

    // Place for the RedshiftSqlTask state machine task and the RedshiftSql custom resource once the library has
    // them: a stack using both, with the same checks (resource counts, the task's parameters, the environment).

    @BeforeAll
    static void synthesize() throws IOException {
        String base = System.getenv("BINDINGS_CDK_OUT");
        temporary = base == null || base.isEmpty();
        outdir = temporary ? Files.createTempDirectory("cdk-sfn-redshift-java-") : Path.of(base, "java");
        App app = App.Builder.create().outdir(outdir.toString()).build();

        Stack clusterStack = new Stack(app, "JavaClusterStack");
        clusterTasker = SfnRedshiftTasker.Builder.create(clusterStack, "RSTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").dbName("dev").dbUser("etl_user").build())
                .build();
        runSqlMachine(clusterStack, clusterTasker);

        Stack serverlessStack = new Stack(app, "JavaServerlessStack");
        ISecret credentials = Secret.fromSecretCompleteArn(serverlessStack, "Credentials", SECRET_ARN);
        SfnRedshiftTasker serverlessTasker = SfnRedshiftTasker.Builder.create(serverlessStack, "AnalyticsTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .workgroupName("analytics").dbName("dev").secret(credentials).build())
                .build();
        runSqlMachine(serverlessStack, serverlessTasker);

        Stack sharedStack = new Stack(app, "JavaSharedStack");
        etl = SfnRedshiftTasker.Builder.create(sharedStack, "EtlTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").dbName("dev").dbUser("etl_user").build())
                .build();
        reporting = SfnRedshiftTasker.Builder.create(sharedStack, "ReportingTask")
                .redshiftTargetProps(RedshiftTargetProps.builder().workgroupName("reporting").dbName("dev").build())
                .createCallbackInfra(false)
                .existingTableObj(etl.getTrackingTable())
                .build();

        app.synth();
        cluster = Template.fromStack(clusterStack).toJSON();
        serverless = Template.fromStack(serverlessStack).toJSON();
        shared = Template.fromStack(sharedStack).toJSON();
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

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> resources(final Map<String, Object> template) {
        return (Map<String, Map<String, Object>>) (Map<String, ?>) template.get("Resources");
    }

    private static Map<String, Integer> resourceCounts(final Map<String, Object> template) {
        Map<String, Integer> counts = new HashMap<>();
        for (Map<String, Object> resource : resources(template).values()) {
            counts.merge((String) resource.get("Type"), 1, Integer::sum);
        }
        return counts;
    }

    /** The logical id of the one resource of that type whose logical id starts with the prefix. */
    private static String onlyId(final Map<String, Object> template, final String type, final String prefix) {
        List<String> ids = resources(template).entrySet().stream()
                .filter(e -> type.equals(e.getValue().get("Type")) && e.getKey().startsWith(prefix))
                .map(Map.Entry::getKey)
                .collect(Collectors.toList());
        assertEquals(1, ids.size(), "expected one " + type + " " + prefix + "*, found " + ids);
        return ids.get(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> properties(final Map<String, Object> template, final String type, final String prefix) {
        return (Map<String, Object>) resources(template).get(onlyId(template, type, prefix)).get("Properties");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> environment(final Map<String, Object> template, final String prefix) {
        Map<String, Object> env = (Map<String, Object>) properties(template, "AWS::Lambda::Function", prefix).get("Environment");
        return (Map<String, Object>) env.get("Variables");
    }

    /** The state machine's definition; CloudFormation expressions become ${Token[i]}, listed in {@code tokens}. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> definition(final Map<String, Object> template, final List<Object> tokens) throws IOException {
        Map<String, Object> machine = properties(template, "AWS::StepFunctions::StateMachine", "Machine");
        Map<String, Object> join = (Map<String, Object>) machine.get("DefinitionString");
        List<Object> parts = (List<Object>) ((List<Object>) join.get("Fn::Join")).get(1);
        StringBuilder text = new StringBuilder();
        for (Object part : parts) {
            if (part instanceof String) {
                text.append((String) part);
            } else {
                text.append("${Token[").append(tokens.size()).append("]}");
                tokens.add(part);
            }
        }
        return new ObjectMapper().readValue(text.toString(), Map.class);
    }

    @SuppressWarnings("unchecked")
    private static void checkRunSqlState(final Map<String, Object> template, final String functionId) throws IOException {
        List<Object> tokens = new ArrayList<>();
        Map<String, Object> states = definition(template, tokens);
        assertEquals("RunSql", states.get("StartAt"));
        Map<String, Object> runSql = (Map<String, Object>) ((Map<String, Object>) states.get("States")).get("RunSql");
        assertEquals("Task", runSql.get("Type"));
        assertEquals("arn:${Token[0]}:states:::lambda:invoke.waitForTaskToken", runSql.get("Resource"));
        assertEquals(Map.of("Ref", "AWS::Partition"), tokens.get(0));
        Map<String, Object> parameters = (Map<String, Object>) runSql.get("Parameters");
        assertEquals("${Token[1]}", parameters.get("FunctionName"));
        assertEquals(Map.of("Fn::GetAtt", List.of(functionId, "Arn")), tokens.get(1));
        assertEquals(Map.of(
                "taskToken.$", "$$.Task.Token",
                "executionArn.$", "$$.Execution.Id",
                "sqlStatement", SQL), parameters.get("Payload"));
        assertEquals(7200, runSql.get("TimeoutSeconds"));
        assertEquals(List.of(Map.of("ErrorEquals", List.of("FAILED"), "Next", "SqlFailed")), runSql.get("Catch"));
        assertEquals(Map.of("Type", "Fail"), ((Map<String, Object>) states.get("States")).get("SqlFailed"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterTaskerAndMachine() throws IOException {
        assertEquals(taskerWithMachine(), resourceCounts(cluster));
        String functionId = onlyId(cluster, "AWS::Lambda::Function", "RSTaskStarterFunction");
        String tableId = onlyId(cluster, "AWS::DynamoDB::Table", "RSTaskTrackingTable");
        assertEquals(Map.of(
                "DDB_TABLE_NAME", Map.of("Ref", tableId),
                "CLUSTER_IDENTIFIER", "my-cluster",
                "DATABASE", "dev",
                "DB_USER", "etl_user",
                "TTL", "1",
                "LOG_LEVEL", "INFO"), environment(cluster, "RSTaskStarterFunction"));
        assertEquals("nodejs24.x", properties(cluster, "AWS::Lambda::Function", "RSTaskStarterFunction").get("Runtime"));
        checkRunSqlState(cluster, functionId);
        // The machine may invoke the tasker function (and its versions), nothing else.
        Map<String, Object> document = (Map<String, Object>) properties(cluster, "AWS::IAM::Policy", "MachineRoleDefaultPolicy").get("PolicyDocument");
        List<Map<String, Object>> statements = (List<Map<String, Object>>) document.get("Statement");
        assertEquals(1, statements.size());
        assertEquals("lambda:InvokeFunction", statements.get(0).get("Action"));
        assertTrue(((List<Object>) statements.get(0).get("Resource")).contains(Map.of("Fn::GetAtt", List.of(functionId, "Arn"))));
        // The attributes the construct exposes reach Java, typed.
        assertNotNull(clusterTasker.getQueue());
        assertNotNull(clusterTasker.getDeadLetterQueue());
        assertNotNull(clusterTasker.getRule());
        assertNotNull(clusterTasker.getEncryptionKey());
        assertEquals(clusterTasker.getLambdaFunction().getNode().getPath(), clusterTasker.getCompleterFunction().getNode().getPath());
    }

    @Test
    @SuppressWarnings("unchecked")
    void serverlessTaskerWithSecret() throws IOException {
        Map<String, Integer> expected = taskerWithMachine();
        expected.put("AWS::IAM::Policy", 4); // + the secret's read grant on the role
        assertEquals(expected, resourceCounts(serverless));
        String functionId = onlyId(serverless, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction");
        String tableId = onlyId(serverless, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable");
        assertEquals(Map.of(
                "DDB_TABLE_NAME", Map.of("Ref", tableId),
                "WORKGROUP_NAME", "analytics",
                "DATABASE", "dev",
                "SECRET_ARN", SECRET_ARN,
                "TTL", "1",
                "LOG_LEVEL", "INFO"), environment(serverless, "AnalyticsTaskStarterFunction"));
        Map<String, Object> grant = (Map<String, Object>) properties(serverless, "AWS::IAM::Policy", "AnalyticsTaskStarterRoleDefaultPolicy").get("PolicyDocument");
        assertEquals(List.of(Map.of(
                "Action", List.of("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
                "Effect", "Allow",
                "Resource", SECRET_ARN)), grant.get("Statement"));
        checkRunSqlState(serverless, functionId);
    }

    @Test
    void secondTaskerSharesTheCallbackInfrastructure() {
        Map<String, Integer> counts = resourceCounts(shared);
        assertEquals(1, counts.get("AWS::DynamoDB::Table"));
        assertEquals(2, counts.get("AWS::Lambda::Function"));
        assertEquals(2, counts.get("AWS::SQS::Queue"));
        assertEquals(1, counts.get("AWS::Events::Rule"));
        String tableId = onlyId(shared, "AWS::DynamoDB::Table", "EtlTaskTrackingTable");
        Map<String, Object> env = environment(shared, "ReportingTaskStarterFunction");
        assertEquals(Map.of("Ref", tableId), env.get("DDB_TABLE_NAME"));
        assertEquals("reporting", env.get("WORKGROUP_NAME"));
        // Optional attributes arrive as null where the tasker created nothing.
        assertNull(reporting.getQueue());
        assertNull(reporting.getCompleterFunction());
        assertNull(reporting.getRule());
        assertNotNull(etl.getQueue());
    }

    @Test
    void invalidPropsFailWithTheLibraryMessage() {
        Stack stack = new Stack(new App(), "Invalid");
        RuntimeException error = assertThrows(RuntimeException.class, () -> SfnRedshiftTasker.Builder.create(stack, "RSTask")
                .redshiftTargetProps(RedshiftTargetProps.builder()
                        .clusterIdentifier("my-cluster").workgroupName("analytics").dbName("dev").build())
                .build());
        assertTrue(error.getMessage().contains("Invalid SfnRedshiftTasker props"), error.getMessage());
        assertTrue(error.getMessage().contains("got both"), error.getMessage());
        // Nothing was created.
        assertNull(Template.fromStack(stack).toJSON().get("Resources"));
    }
}
