// cdk-stepfunctions-redshift used from Go: npm run test:bindings builds the module into dist/go and runs go test here.
module bindingtest

go 1.25.0

require (
	// Equal to CDK_VERSION and constructsVersion in .projenrc.ts: the lowest versions the library supports.
	github.com/aws/aws-cdk-go/awscdk/v2 v2.224.0
	github.com/aws/constructs-go/constructs/v10 v10.4.2
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go/cdkstepfunctionsredshift v0.0.0
)

require (
	github.com/Masterminds/semver/v3 v3.5.0 // indirect
	github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2 v2.2.242 // indirect
	github.com/cdklabs/awscdk-asset-node-proxy-agent-go/nodeproxyagentv6/v2 v2.1.3 // indirect
	github.com/cdklabs/cloud-assembly-schema-go/awscdkcloudassemblyschema/v48 v48.20.0 // indirect
	github.com/fatih/color v1.19.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/yuin/goldmark v1.7.16 // indirect
	golang.org/x/lint v0.0.0-20241112194109-818c5a804067 // indirect
	golang.org/x/mod v0.39.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/telemetry v0.0.0-20260811182544-a038080d80e5 // indirect
	golang.org/x/tools v0.49.0 // indirect
	golang.org/x/tools/cmd/godoc v0.1.0-deprecated // indirect
	golang.org/x/tools/godoc v0.1.0-deprecated // indirect
)

// The module built from this repository (not published yet).
replace github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go/cdkstepfunctionsredshift => ../../../dist/go/cdkstepfunctionsredshift
