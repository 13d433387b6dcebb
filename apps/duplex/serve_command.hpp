// `duplex serve`: the echo server with the built-in page.
#pragma once

#include <CLI/CLI.hpp>

namespace duplex::app {

/// Adds the `serve` subcommand to `cli`; it runs when parsed and stores its exit status.
void add_serve_command(CLI::App& cli, int& exit_status);

}  // namespace duplex::app
