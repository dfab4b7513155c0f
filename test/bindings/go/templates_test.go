// Reading synthesized templates: resource counts, one named resource, a state machine's states.
package bindingtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

type template = map[string]interface{}
type object = map[string]interface{}
type list = []interface{}

// The resources of each part of a stack (test/bindings/resource-counts.json, shared by the three apps): a default
// tasker, a tasker without callback infrastructure, a state machine with its role and policy, and rolePolicy, a grant
// on a role of the tasker or the app that had no policy yet (its default policy). Each stack's expected counts are a
// sum of these, so a change to what a default tasker creates is one edit there.
var defaultTasker, taskerWithoutCallbackInfra, stateMachine, rolePolicy = readCounts()

// readCounts reads the count tables of resource-counts.json, next to this app's folder (go test runs in it).
func readCounts() (defaultTasker, taskerWithoutCallbackInfra, stateMachine, rolePolicy map[string]int) {
	data, err := os.ReadFile(filepath.Join("..", "resource-counts.json"))
	if err != nil {
		panic(err)
	}
	var tables struct {
		DefaultTasker              map[string]int `json:"defaultTasker"`
		TaskerWithoutCallbackInfra map[string]int `json:"taskerWithoutCallbackInfra"`
		StateMachine               map[string]int `json:"stateMachine"`
		RolePolicy                 map[string]int `json:"rolePolicy"`
	}
	if err := json.Unmarshal(data, &tables); err != nil {
		panic(err)
	}
	return tables.DefaultTasker, tables.TaskerWithoutCallbackInfra, tables.StateMachine, tables.RolePolicy
}

// counts is the sum of resource-count tables.
func counts(tables ...map[string]int) map[string]int {
	total := map[string]int{}
	for _, table := range tables {
		for resourceType, n := range table {
			total[resourceType] += n
		}
	}
	return total
}

func resources(t template) object {
	return t["Resources"].(object)
}

func resourceCounts(t template) map[string]int {
	found := map[string]int{}
	for _, r := range resources(t) {
		found[r.(object)["Type"].(string)]++
	}
	return found
}

// onlyResource returns the logical id and the resource of the one resource of that type whose id starts with prefix.
func onlyResource(tb testing.TB, t template, resourceType, prefix string) (string, object) {
	tb.Helper()
	var ids []string
	var found object
	for id, r := range resources(t) {
		if r.(object)["Type"] == resourceType && strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
			found = r.(object)
		}
	}
	if len(ids) != 1 {
		tb.Fatalf("expected one %s %s*, found %v", resourceType, prefix, ids)
	}
	return ids[0], found
}

func onlyID(tb testing.TB, t template, resourceType, prefix string) string {
	tb.Helper()
	id, _ := onlyResource(tb, t, resourceType, prefix)
	return id
}

func properties(tb testing.TB, t template, resourceType, prefix string) object {
	tb.Helper()
	_, r := onlyResource(tb, t, resourceType, prefix)
	return r["Properties"].(object)
}

func environment(tb testing.TB, t template, functionPrefix string) object {
	tb.Helper()
	return properties(tb, t, "AWS::Lambda::Function", functionPrefix)["Environment"].(object)["Variables"].(object)
}

func policyStatements(tb testing.TB, t template, policyPrefix string) list {
	tb.Helper()
	return properties(tb, t, "AWS::IAM::Policy", policyPrefix)["PolicyDocument"].(object)["Statement"].(list)
}

// getArn is {"Fn::GetAtt": [id, "Arn"]}.
func getArn(logicalID string) object {
	return object{"Fn::GetAtt": list{logicalID, "Arn"}}
}

// arn is how states writes the ARN of a resource: ${<logical id>.Arn}.
func arn(logicalID string) string {
	return "${" + logicalID + ".Arn}"
}

// asJSON normalizes a value to what encoding/json decodes (numbers as float64, slices as []interface{}).
func asJSON(tb testing.TB, v interface{}) interface{} {
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

func expectEqual(tb testing.TB, what string, want, got interface{}) {
	tb.Helper()
	if w, g := asJSON(tb, want), asJSON(tb, got); !reflect.DeepEqual(w, g) {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		tb.Errorf("%s:\n want %s\n got  %s", what, wj, gj)
	}
}

// expression writes a CloudFormation expression of a definition as in Fn::Sub: ${AWS::Partition}, ${Function.Arn}.
func expression(tb testing.TB, token object) string {
	tb.Helper()
	if ref, ok := token["Ref"]; ok && len(token) == 1 {
		return fmt.Sprintf("${%s}", ref)
	}
	if getAtt, ok := token["Fn::GetAtt"].(list); ok && len(token) == 1 {
		return fmt.Sprintf("${%s.%s}", getAtt[0], getAtt[1])
	}
	tb.Fatalf("unexpected expression in a state machine definition: %v", token)
	return ""
}

// states returns the definition of the state machine whose logical id starts with prefix, its expressions as ${...}.
func states(tb testing.TB, t template, machinePrefix string) object {
	tb.Helper()
	definition := properties(tb, t, "AWS::StepFunctions::StateMachine", machinePrefix)["DefinitionString"]
	parts := list{definition}
	if join, ok := definition.(object); ok {
		parts = join["Fn::Join"].(list)[1].(list)
	}
	var text strings.Builder
	for _, part := range parts {
		if s, ok := part.(string); ok {
			text.WriteString(s)
		} else {
			text.WriteString(expression(tb, part.(object)))
		}
	}
	var machine object
	if err := json.Unmarshal([]byte(text.String()), &machine); err != nil {
		tb.Fatal(err)
	}
	return machine
}

// expectStates compares the states of a definition with the expected ones, state by state.
func expectStates(tb testing.TB, want object, machine object) {
	tb.Helper()
	got := machine["States"].(object)
	names := func(m object) []string {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	expectEqual(tb, "the states", names(want), names(got))
	for name, state := range want {
		expectEqual(tb, "state "+name, state, got[name])
	}
}
