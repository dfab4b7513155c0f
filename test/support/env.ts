// Every test runs offline: dummy credentials, a fixed region, no SDK version banners, no CDK telemetry.
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
delete process.env.AWS_PROFILE;
// Safety net: an SDK client that a test forgot to mock or point at a local server goes to a closed loopback port,
// never to AWS.
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
