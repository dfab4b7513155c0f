// A user's own Node.js function (an asset directory), run for real by the local runner.
exports.handler = async (event) => ({ doubled: Number(event.qty) * 2, runtime: process.version });
