package io.github.cdkstepfunctionsredshift.bindingtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Reading synthesized templates: resource counts, one named resource, a state machine's states. */
final class Templates {
    /**
     * The resources a default tasker creates (README: "What a default tasker creates"). Each stack's expected counts
     * are this table plus what the stack adds, so a change to the tasker's resources is one edit here.
     */
    static final Map<String, Integer> DEFAULT_TASKER = Map.of(
            "AWS::DynamoDB::Table", 1,
            "AWS::Lambda::Function", 1,
            "AWS::IAM::Role", 1,
            "AWS::IAM::Policy", 2,
            "AWS::Logs::LogGroup", 1,
            "AWS::Events::Rule", 1,
            "AWS::SQS::Queue", 2,
            "AWS::SQS::QueuePolicy", 2,
            "AWS::KMS::Key", 1,
            "AWS::Lambda::EventSourceMapping", 1);
    /** A tasker with createCallbackInfra: false: its function, role, log group and one policy. */
    static final Map<String, Integer> TASKER_WITHOUT_CALLBACK_INFRA = Map.of(
            "AWS::Lambda::Function", 1, "AWS::IAM::Role", 1, "AWS::IAM::Policy", 1, "AWS::Logs::LogGroup", 1);
    /** A state machine with its role and the role's policy. */
    static final Map<String, Integer> STATE_MACHINE = Map.of(
            "AWS::StepFunctions::StateMachine", 1, "AWS::IAM::Role", 1, "AWS::IAM::Policy", 1);
    /** A grant on a role of the tasker or the app that had no policy yet: its default policy. */
    static final Map<String, Integer> ROLE_POLICY = Map.of("AWS::IAM::Policy", 1);

    private Templates() {
    }

    /** The sum of resource-count tables. */
    @SafeVarargs
    static Map<String, Integer> counts(final Map<String, Integer>... tables) {
        Map<String, Integer> total = new LinkedHashMap<>();
        for (Map<String, Integer> table : tables) {
            table.forEach((type, count) -> total.merge(type, count, Integer::sum));
        }
        return total;
    }

    /** An ordered map from alternating keys and values: {@code map("a", 1, "b", 2)}. */
    static Map<String, Object> map(final Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> resources(final Map<String, Object> template) {
        return (Map<String, Map<String, Object>>) (Map<String, ?>) template.get("Resources");
    }

    static Map<String, Integer> resourceCounts(final Map<String, Object> template) {
        return resources(template).values().stream()
                .collect(Collectors.toMap(r -> (String) r.get("Type"), r -> 1, Integer::sum));
    }

    /** The logical id of the one resource of that type whose logical id starts with the prefix. */
    static String onlyId(final Map<String, Object> template, final String type, final String prefix) {
        List<String> ids = resources(template).entrySet().stream()
                .filter(e -> type.equals(e.getValue().get("Type")) && e.getKey().startsWith(prefix))
                .map(Map.Entry::getKey)
                .collect(Collectors.toList());
        assertEquals(1, ids.size(), "expected one " + type + " " + prefix + "*, found " + ids);
        return ids.get(0);
    }

    static Map<String, Object> resource(final Map<String, Object> template, final String type, final String prefix) {
        return resources(template).get(onlyId(template, type, prefix));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> properties(final Map<String, Object> template, final String type, final String prefix) {
        return (Map<String, Object>) resource(template, type, prefix).get("Properties");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> environment(final Map<String, Object> template, final String functionPrefix) {
        Map<String, Object> env = (Map<String, Object>) properties(template, "AWS::Lambda::Function", functionPrefix).get("Environment");
        return (Map<String, Object>) env.get("Variables");
    }

    @SuppressWarnings("unchecked")
    static List<Object> policyStatements(final Map<String, Object> template, final String policyPrefix) {
        Map<String, Object> document = (Map<String, Object>) properties(template, "AWS::IAM::Policy", policyPrefix).get("PolicyDocument");
        return (List<Object>) document.get("Statement");
    }

    /** {@code {"Fn::GetAtt": [id, "Arn"]}}. */
    static Map<String, Object> getArn(final String logicalId) {
        return Map.of("Fn::GetAtt", List.of(logicalId, "Arn"));
    }

    /** How {@link #states} writes the ARN of a resource: ${logicalId.Arn}. */
    static String arn(final String logicalId) {
        return "${" + logicalId + ".Arn}";
    }

    /** A CloudFormation expression of a definition, written as in Fn::Sub: ${AWS::Partition}, ${Function.Arn}. */
    @SuppressWarnings("unchecked")
    private static String expression(final Map<String, Object> token) {
        if (token.keySet().equals(java.util.Set.of("Ref"))) {
            return "${" + token.get("Ref") + "}";
        }
        if (token.keySet().equals(java.util.Set.of("Fn::GetAtt"))) {
            return "${" + String.join(".", (List<String>) token.get("Fn::GetAtt")) + "}";
        }
        throw new AssertionError("unexpected expression in a state machine definition: " + token);
    }

    /** The states of a definition equal the expected ones, compared state by state (shorter messages). */
    @SuppressWarnings("unchecked")
    static void assertStates(final Map<String, Object> expected, final Map<String, Object> definition) {
        Map<String, Object> actual = (Map<String, Object>) definition.get("States");
        assertEquals(expected.keySet(), actual.keySet(), "the states");
        expected.forEach((name, state) -> assertEquals(state, actual.get(name), "state " + name));
    }

    /** The definition of the state machine whose logical id starts with the prefix, its expressions as ${...}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> states(final Map<String, Object> template, final String machinePrefix) throws IOException {
        Object definition = properties(template, "AWS::StepFunctions::StateMachine", machinePrefix).get("DefinitionString");
        List<Object> parts = definition instanceof String
                ? List.of(definition)
                : (List<Object>) ((List<Object>) ((Map<String, Object>) definition).get("Fn::Join")).get(1);
        StringBuilder text = new StringBuilder();
        for (Object part : parts) {
            text.append(part instanceof String ? (String) part : expression((Map<String, Object>) part));
        }
        return new ObjectMapper().readValue(text.toString(), Map.class);
    }
}
