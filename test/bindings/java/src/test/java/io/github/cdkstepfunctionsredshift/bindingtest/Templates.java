package io.github.cdkstepfunctionsredshift.bindingtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Reading synthesized templates: resource counts, one named resource, a state machine's states. */
final class Templates {
    /**
     * The resources of each part of a stack (test/bindings/resource-counts.json, shared by the three apps): a default
     * tasker, a tasker without callback infrastructure, a state machine with its role and policy, a role's default
     * policy. Each stack's expected counts are a sum of these, so a change to what a default tasker creates is one
     * edit there.
     */
    private static final Map<String, Map<String, Integer>> COUNTS = readCounts();
    static final Map<String, Integer> DEFAULT_TASKER = COUNTS.get("defaultTasker");
    static final Map<String, Integer> TASKER_WITHOUT_CALLBACK_INFRA = COUNTS.get("taskerWithoutCallbackInfra");
    static final Map<String, Integer> STATE_MACHINE = COUNTS.get("stateMachine");
    /** A grant on a role of the tasker or the app that had no policy yet: its default policy. */
    static final Map<String, Integer> ROLE_POLICY = COUNTS.get("rolePolicy");

    private Templates() {
    }

    /** The count tables of resource-counts.json, next to this app's folder (Maven runs the tests in the app's folder). */
    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Integer>> readCounts() {
        Path file = Path.of(System.getProperty("basedir", "."), "..", "resource-counts.json");
        try {
            return new ObjectMapper().readValue(file.toFile(), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
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
