// `duplex bench`: the load generator. Echo throughput and latency against any WebSocket echo
// server, with the server's CPU time accounted from /proc; or idle connections held open to
// measure the server's memory per connection.
#pragma once

#include <CLI/CLI.hpp>

namespace duplex::app {

/// Adds the `bench` subcommand to `cli`; it runs when parsed and stores its exit status.
void add_bench_command(CLI::App& cli, int& exit_status);

}  // namespace duplex::app
