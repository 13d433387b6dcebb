// The `duplex` command.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "bench_command.hpp"
#include "connect_command.hpp"
#include "serve_command.hpp"

int main(int argc, char** argv) {
  CLI::App cli("Duplex: a real-time WebSocket server and client.", "duplex");
  cli.set_version_flag("--version", "duplex 0.1.0");
  cli.require_subcommand(1);
  int exit_status = 0;
  duplex::app::add_serve_command(cli, exit_status);
  duplex::app::add_connect_command(cli, exit_status);
  duplex::app::add_bench_command(cli, exit_status);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as the help text promises.
    return cli.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "duplex: " << e.what() << "\n";
    return 1;
  }
  return exit_status;
}
