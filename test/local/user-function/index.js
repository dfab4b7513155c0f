// A user's own Node.js function (an asset directory), run for real by the local runner.
exports.handler = async (event) => ({
  doubled: Number(event.qty) * 2,
  runtime: process.version,
  // Where an AWS SDK client of a service without a local stand-in sends its calls.
  otherServices: process.env.AWS_ENDPOINT_URL,
});
