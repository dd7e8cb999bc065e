#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"

// The command line of a job's helper (pgguard-postgres, pgguard-pgpool): one command, the job's
// plan, and the options each command takes, as monit's start and stop programs and pre-start
// pass them.
namespace pgguard {

struct JobCommandLine {
  bool help = false;  // --help: print the usage, nothing else
  std::string command;
  std::string plan_path;
  std::optional<std::string> setup_path;
  std::optional<unsigned> isolation_wait;  // seconds
  std::optional<unsigned> grace;           // seconds
  std::optional<unsigned> wait;            // seconds
  std::optional<std::string> file;         // `show`'s file
  // A BOSH drain script's stdout must hold only an integer: for the commands that answer one,
  // the stdout this process started with, kept before --log takes stdout over.
  UniqueFd answer_output;
};

// Which commands take which option; an option given to any other command is refused rather
// than ignored.
struct JobCommands {
  std::string_view program;                 // for messages: "pgguard-pgpool"
  std::string_view all;                     // "pre-start|start|stop|show|check"
  std::vector<std::string> setup;           // take --setup FILE
  std::vector<std::string> isolation_wait;  // take --isolation-wait SECONDS
  std::vector<std::string> grace;           // take --grace SECONDS
  std::vector<std::string> wait;            // take --wait SECONDS
  std::vector<std::string> file;            // take --file NAME
  std::vector<std::string> answer;          // print only an integer on stdout (drain)
};

// Parses; throws Error(bad_input) naming the problem. With --log FILE, this process's stdout
// and stderr go to the end of FILE from here on (common/output_log.hpp): monit discards what its
// programs print, and a service's first messages land there too.
JobCommandLine parse_job_command_line(int argc, char** argv, const JobCommands& commands);

// One line per entry on stdout, flushed: what a start program says before it execs the service.
void print_lines(const std::vector<std::string>& lines);

// Writes BOSH's drain answer ("0": stopped, nothing more to wait for) to the kept stdout.
// Throws SystemError when it cannot: BOSH would read no answer.
void answer_drain(const JobCommandLine& line);

// pre-start's report: one line per change, or "<who>: nothing changed".
void report_changes(std::string_view who, const std::vector<std::string>& changes);

// Whether the process `pid` runs the program `comm` (/proc/PID/comm): what a start program
// waits for before it returns to monit.
bool process_runs(pid_t pid, std::string_view comm);

}  // namespace pgguard
