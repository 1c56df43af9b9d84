// replay_ref: the reference replayer of the fidelity suite.
//
// It replays one of the project's time-independent action traces on SimGrid 3.32 (s4u, the xbt replay reader and
// the live-migration plugin) and prints, as CSV on stdout, when every action of every actor started and ended in
// simulated time. tools/regen_golden.py runs it on each scenario of tools/simgrid_ref/scenarios.toml and stores the
// output as tests/golden/simgrid/<name>.csv; the project's own engine must reproduce those numbers.
//
// Usage:
//   replay_ref PLATFORM.xml DEPLOY.xml [SHARED_TRACE] [--migrations=FILE] [--loads=FILE] [--energy]
//              [--cfg=network/model:CM02]... [--log=...]...
//
// With SHARED_TRACE, every actor of the deployment reads its own lines (first token = its name) from that one
// file. Without it, each actor of the deployment names its own trace file in its first <argument value=...>;
// a relative name is opened from the current directory (as SimGrid does) and, failing that, from the
// deployment file's folder (as the project's engine also does).
//
// VM actions (README's "Action traces") map to s4u::VirtualMachine and the live-migration plugin; `init <vm>` moves the
// actor onto that VM once another actor has started it (it waits on a condition variable until then).
//
// Failures: `host_off <host>` / `host_on <host>` are Host::turn_off / turn_on of a physical host, `link_off <link>` /
// `link_on <link>` Link::turn_off / turn_on; all four are instant. Availability profiles (speed_file, state_file,
// bandwidth_file, latency_file, <trace>/<trace_connect>) need nothing here: SimGrid reads them with the platform.
//
// Output: header "actor,seq,action,start,end", then one row per executed action sorted by actor then seq
// (seq counts the actor's own actions from 0), times printed with %.17g, then "*,-1,simulated_time,0,<end>".
// An actor that does not finish its trace gets one last row instead of the action it was in, with that action's
// seq, the date it started and the date it ended the actor: "killed" when SimGrid killed the actor (vm_shutdown or
// vm_destroy of its VM, its host or its VM's host turned off), "failed" when the action raised a
// NetworkFailureException, HostFailureException or CancelException (a link of its route went off, its peer's host
// went off, its peer was killed); a failed actor replays nothing more (the exception is reported on stderr). A
// deployed actor whose start_time comes while its host is off is never started by SimGrid: it gets
// "killed,0,<date>,<date>" (see main). With --migrations=FILE, one CSV row per live migration
// (stages as seen on the plugin's data mailbox) goes to FILE.
// With --energy, SimGrid's host and link energy plugins are initialised before the platform is loaded, and after
// the simulated_time row come the joules each consumed during the run: "energy,-1,host:<name>,0,<joules>" for
// every physical host that has a wattage_per_state property, then "energy,-1,link:<name>,0,<joules>" for every
// link that has a wattage_range property (VMs and the __loopback__ link left out), each kind sorted by name,
// joules printed with %.17g. They are read after the run (sg_host_get_consumed_energy, sg_link_get_consumed_energy),
// so they are the plugins' lazily updated totals (tools/simgrid_ref/README.md, Facts).
// `set_pstate <host> <index>` is Host::set_pstate on a physical host (instant).
// `load <fraction> <duration>` asks fraction x the actor's host's vCPU capacity for duration seconds: one exec per
// core of the host (a VM's vCPUs, a PM's cores), each bounded by fraction x the PM's core speed, started
// asynchronously, cancelled after sleep_for(duration); with --loads=FILE, one CSV row per load action
// "actor,seq,demand,served" goes to FILE (served = the flops those execs computed, demand = fraction x cores x
// speed x duration).
// Exit status: 0 on success, 2 on a usage error, 3 on a bad action (or one SimGrid 3.32 cannot express), when
// SimGrid reported a deadlock or when an actor neither finished its trace nor was killed nor failed.

#include <simgrid/Exception.hpp>
#include <simgrid/plugins/energy.h>
#include <simgrid/plugins/live_migration.h>
#include <simgrid/s4u.hpp>
#include <simgrid/s4u/VirtualMachine.hpp>
#include <xbt/log.h>
#include <xbt/parse_units.hpp>
#include <xbt/replay.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

struct Row {
  std::string actor;
  long seq;
  std::string action;
  double start;
  double end;
};

// Actors run one at a time in SimGrid's default (sequential) context factory, so plain globals are safe.
std::vector<Row> g_rows;
std::map<std::string, long> g_next_seq;
std::map<std::string, std::deque<sg4::CommPtr>> g_pending; // per actor, oldest request first
std::string g_deploy_dir;
bool g_shared_mode = false;
int g_started     = 0;
int g_finished    = 0;
int g_killed      = 0;
int g_failed      = 0;
int g_refused     = 0; // deployed actors whose start_time came while their host was off (never started)
bool g_deadlock   = false;
// The last actor the kernel created (Actor::on_creation fires before it checks that the host is on).
std::string g_last_created;
const sg4::Host* g_last_created_host = nullptr;

// Thrown by timed() once it has recorded a "failed" row: it unwinds the actor out of the replay reader (caught in
// actor_main), so that the actor replays nothing more.
struct ActorFailed {};

// Every message carries a pointer to this token; the simulated size is what matters, not the payload.
int g_token = 0;

[[noreturn]] void die(const std::string& message)
{
  std::fprintf(stderr, "replay_ref: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(3);
}

std::string describe(const simgrid::xbt::ReplayAction& action)
{
  std::string text;
  for (const auto& token : action) {
    if (not text.empty())
      text += ' ';
    text += token;
  }
  return text;
}

const std::string& arg(const simgrid::xbt::ReplayAction& action, size_t index, const char* what)
{
  if (index >= action.size())
    die("'" + describe(action) + "': missing argument <" + what + ">");
  return action[index];
}

double flops_of(const simgrid::xbt::ReplayAction& action, size_t index)
{
  return xbt_parse_get_speed("trace", 0, arg(action, index, "flops"), "");
}

double bytes_of(const simgrid::xbt::ReplayAction& action, size_t index)
{
  return xbt_parse_get_size("trace", 0, arg(action, index, "bytes"), "");
}

double seconds_of(const simgrid::xbt::ReplayAction& action, size_t index)
{
  return xbt_parse_get_time("trace", 0, arg(action, index, "seconds"), "");
}

// Mailbox of a transfer from `sender` to `receiver`, named "<sender>_<receiver>".
sg4::Mailbox* mailbox(const std::string& sender, const std::string& receiver)
{
  return sg4::Mailbox::by_name(sender + "_" + receiver);
}

// The message of the innermost exception nested in `error` (the kernel's own, which s4u wraps), or "".
std::string nested_message(const std::exception& error)
{
  try {
    std::rethrow_if_nested(error);
  } catch (const std::exception& inner) {
    std::string deeper = nested_message(inner);
    return deeper.empty() ? inner.what() : deeper;
  } catch (...) {
  }
  return "";
}

// Records the "failed" row of an actor whose action failed (start: when the action started, end: now), reports the
// exception on stderr and ends the actor (ActorFailed, caught in actor_main).
[[noreturn]] void fail(const std::string& me, long seq, double start, const simgrid::xbt::ReplayAction& action,
                       const char* kind, const std::exception& error)
{
  std::string what = error.what();
  std::string innermost = nested_message(error);
  if (not innermost.empty())
    what = innermost;
  const double now = sg4::Engine::get_clock();
  g_rows.push_back(Row{me, seq, "failed", start, now});
  g_failed++;
  std::fprintf(stderr, "replay_ref: actor '%s' failed at %.17g in '%s': %s: %s\n", me.c_str(), now,
               describe(action).c_str(), kind, what.c_str());
  throw ActorFailed{};
}

// Wraps a handler so that its start and end dates are recorded under the calling actor's next seq number.
// An actor killed inside the action (its VM was shut down or destroyed, its host or its VM's host turned off)
// records a "killed" row instead; one whose action failed (NetworkFailureException, HostFailureException or
// CancelException: a link of its route went off, its peer's host went off or its peer was killed) a "failed" row,
// and replays nothing more.
action_fun timed(void (*body)(simgrid::xbt::ReplayAction&))
{
  return [body](simgrid::xbt::ReplayAction& action) {
    const std::string me = sg4::this_actor::get_name();
    const long seq       = g_next_seq[me]++;
    const std::string name = action.at(1);
    const double start     = sg4::Engine::get_clock();
    try {
      body(action);
    } catch (const simgrid::ForcefulKillException&) {
      g_rows.push_back(Row{me, seq, "killed", start, sg4::Engine::get_clock()});
      g_killed++;
      throw;
    } catch (const simgrid::NetworkFailureException& error) { // a link of the route or the peer's host went off
      fail(me, seq, start, action, "NetworkFailureException", error);
    } catch (const simgrid::HostFailureException& error) {
      fail(me, seq, start, action, "HostFailureException", error);
    } catch (const simgrid::CancelException& error) { // the peer was killed while the transfer was pending
      fail(me, seq, start, action, "CancelException", error);
    } catch (const simgrid::ParseError& error) {
      die("'" + describe(action) + "': " + error.what());
    } catch (const simgrid::Exception& error) { // VmFailureException and the like
      die("'" + describe(action) + "': SimGrid refused it: " + error.what());
    } catch (const std::logic_error& error) { // std::stod's invalid_argument and out_of_range
      die("'" + describe(action) + "': bad number (" + error.what() + ")");
    }
    g_rows.push_back(Row{me, seq, name, start, sg4::Engine::get_clock()});
  };
}

void do_nothing(simgrid::xbt::ReplayAction&) {}

// ---------------------------------------------------------------------------------------------------------------
// Virtual machines

// The VMs created by the trace, by name (a destroyed VM leaves the map: its name may be created again).
std::map<std::string, sg4::VirtualMachine*> g_vms;
// Actors whose `init <vm>` waits for that VM to run are woken by vm_start and vm_resume.
sg4::MutexPtr g_vm_mutex;
sg4::ConditionVariablePtr g_vm_started;
std::map<std::string, std::string> g_waiting_for_vm; // actor -> VM, for the deadlock report

// Created on first use, from an actor. Creating the condition variable is a simcall, during which other actors may
// run: both objects are published together once they exist.
void ensure_vm_sync()
{
  if (g_vm_started)
    return;
  sg4::MutexPtr mutex            = sg4::Mutex::create();
  sg4::ConditionVariablePtr cond = sg4::ConditionVariable::create();
  if (not g_vm_started) {
    g_vm_mutex   = mutex;
    g_vm_started = cond;
  }
}

sg4::VirtualMachine* vm_of(const simgrid::xbt::ReplayAction& action, size_t index)
{
  const std::string& name = arg(action, index, "vm");
  auto found              = g_vms.find(name);
  if (found == g_vms.end())
    die("'" + describe(action) + "': no VM named '" + name + "' exists (create it with vm_create first)");
  return found->second;
}

sg4::Host* pm_of(const simgrid::xbt::ReplayAction& action, size_t index, const char* what = "pm")
{
  const std::string& name = arg(action, index, what);
  sg4::Host* host         = sg4::Host::by_name_or_null(name);
  if (g_vms.count(name) != 0)
    die("'" + describe(action) + "': '" + name + "' is a VM; a physical host is expected");
  if (host == nullptr)
    die("'" + describe(action) + "': no host named '" + name + "' in the platform");
  if (dynamic_cast<sg4::VirtualMachine*>(host) != nullptr)
    die("'" + describe(action) + "': '" + name + "' is a VM; a physical host is expected");
  return host;
}

// init [host]: with a physical host, the actor moves there; with a VM, it waits until that VM runs (it may not be
// created yet), then moves onto it. No argument: the deployment's host.
void do_init(simgrid::xbt::ReplayAction& action)
{
  if (action.size() < 3)
    return;
  const std::string& name = action[2];
  sg4::Host* host         = sg4::Host::by_name_or_null(name);
  if (host != nullptr && dynamic_cast<sg4::VirtualMachine*>(host) == nullptr) {
    if (host != sg4::this_actor::get_host())
      sg4::this_actor::set_host(host);
    return;
  }
  ensure_vm_sync();
  const std::string me = sg4::this_actor::get_name();
  std::unique_lock lock(*g_vm_mutex);
  while (true) {
    auto found = g_vms.find(name);
    if (found != g_vms.end() && found->second->get_state() == sg4::VirtualMachine::State::RUNNING) {
      g_waiting_for_vm.erase(me);
      sg4::this_actor::set_host(found->second);
      return;
    }
    g_waiting_for_vm[me] = name;
    try {
      g_vm_started->wait(lock);
    } catch (const simgrid::ForcefulKillException&) {
      // Killed while waiting (its host went off): the kernel gave the mutex back when the wait began and the actor
      // does not hold it now; unlocking it from a dying actor would be a simcall that never returns, and the
      // unwinding (hence the "killed" row) would never complete.
      g_waiting_for_vm.erase(me);
      lock.release();
      throw;
    }
  }
}

// The options of vm_create, in SimGrid's units: bytes, flop/s, bytes per second, a fraction.
struct VmOptions {
  int cores            = 1;
  bool has_ram         = false;
  double ram           = 0;
  double dp_intensity  = 0;
  bool has_working_set = false;
  double working_set   = 0;
  double mig_speed     = 0;
  bool has_bound       = false;
  double bound         = 0;
};

constexpr double PLUGIN_MAX_DOWNTIME = 0.03; // fixed in SimGrid 3.32's plugin: it has no setter

// Parses the key=value options of vm_create. SimGrid units are accepted: ram=1GiB, mig_speed=100MBps, bound=500Mf.
VmOptions parse_vm_options(const simgrid::xbt::ReplayAction& action, size_t first)
{
  VmOptions options;
  for (size_t i = first; i < action.size(); i++) {
    const std::string& token = action[i];
    const auto equal         = token.find('=');
    if (equal == std::string::npos || equal == 0)
      die("'" + describe(action) + "': expected key=value, found '" + token + "'");
    const std::string key   = token.substr(0, equal);
    const std::string value = token.substr(equal + 1);
    if (key == "cores") {
      size_t used     = 0;
      const int cores = std::stoi(value, &used);
      if (used != value.size() || cores < 1)
        die("'" + describe(action) + "': cores must be a positive integer, found '" + value + "'");
      options.cores = cores;
    } else if (key == "ram") {
      options.has_ram = true;
      options.ram     = xbt_parse_get_size("trace", 0, value, "");
    } else if (key == "dp_intensity") {
      size_t used          = 0;
      options.dp_intensity = std::stod(value, &used);
      if (used != value.size() || options.dp_intensity < 0)
        die("'" + describe(action) + "': dp_intensity must be a number >= 0, found '" + value + "'");
    } else if (key == "working_set") {
      options.has_working_set = true;
      options.working_set     = xbt_parse_get_size("trace", 0, value, "");
    } else if (key == "mig_speed") {
      options.mig_speed = xbt_parse_get_bandwidth("trace", 0, value, "");
    } else if (key == "max_downtime") {
      const double downtime = xbt_parse_get_time("trace", 0, value, "");
      if (std::fabs(downtime - PLUGIN_MAX_DOWNTIME) > 1e-12)
        die("'" + describe(action) + "': SimGrid 3.32's live-migration plugin has no setter for max_downtime (it "
            "is fixed at 0.03 s); only max_downtime=0.03 can be replayed here");
    } else if (key == "bound") {
      options.has_bound = true;
      options.bound     = xbt_parse_get_speed("trace", 0, value, "");
    } else {
      die("'" + describe(action) + "': unknown option '" + key +
          "' (known: cores, ram, dp_intensity, working_set, mig_speed, max_downtime, bound)");
    }
  }
  return options;
}

// vm_create <vm> <pm> [key=value]...: s4u's create_vm, then the plugin's parameters. The trace's meaning is the
// project's: without ram=, 1 GiB (SimGrid's own default, 1024 bytes, would make every migration free); without
// working_set=, 0.9 x ram (what the plugin's sg_vm_create_migratable sets; a bare create_vm leaves 0).
void do_vm_create(simgrid::xbt::ReplayAction& action)
{
  const std::string& name = arg(action, 2, "vm");
  sg4::Host* pm           = pm_of(action, 3);
  const VmOptions options = parse_vm_options(action, 4);
  if (g_vms.count(name) != 0 || sg4::Host::by_name_or_null(name) != nullptr)
    die("'" + describe(action) + "': a host or VM named '" + name + "' already exists");
  const double ram        = options.has_ram ? options.ram : 1024.0 * 1024 * 1024;
  sg4::VirtualMachine* vm = pm->create_vm(name, options.cores, static_cast<size_t>(ram));
  sg_vm_set_dirty_page_intensity(vm, options.dp_intensity);
  const double working_set = options.has_working_set ? options.working_set : vm->get_ramsize() * 0.9;
  sg_vm_set_working_set_memory(vm, static_cast<sg_size_t>(working_set));
  sg_vm_set_migration_speed(vm, options.mig_speed);
  if (options.has_bound)
    vm->set_bound(options.bound);
  g_vms[name] = vm;
}

void wake_vm_waiters()
{
  ensure_vm_sync();
  g_vm_started->notify_all();
}

void do_vm_start(simgrid::xbt::ReplayAction& action)
{
  vm_of(action, 2)->start();
  wake_vm_waiters();
}

void do_vm_suspend(simgrid::xbt::ReplayAction& action)
{
  vm_of(action, 2)->suspend();
}

void do_vm_resume(simgrid::xbt::ReplayAction& action)
{
  vm_of(action, 2)->resume();
  wake_vm_waiters();
}

// vm_shutdown: SimGrid kills every actor on the VM; the VM object stays (state DESTROYED) until vm_destroy.
void do_vm_shutdown(simgrid::xbt::ReplayAction& action)
{
  vm_of(action, 2)->shutdown();
}

// vm_destroy: shuts the VM down (killing its actors) and deletes it.
void do_vm_destroy(simgrid::xbt::ReplayAction& action)
{
  sg4::VirtualMachine* vm = vm_of(action, 2);
  g_vms.erase(action[2]);
  vm->destroy();
}

void do_vm_set_bound(simgrid::xbt::ReplayAction& action)
{
  sg4::VirtualMachine* vm = vm_of(action, 2);
  vm->set_bound(flops_of(action, 3));
}

void do_unsupported(simgrid::xbt::ReplayAction& action)
{
  die("'" + describe(action) + "': " + action.at(1) +
      " does not exist in SimGrid 3.32 (s4u has no VM save/restore); scenarios replayed by the reference must "
      "not use it");
}

// ---------------------------------------------------------------------------------------------------------------
// Live migrations, observed through the plugin's data transfers

// One row of the --migrations table. Stage 1 is the first transfer on the migration's data mailbox, stage 3 is the
// transfer posted after the plugin suspended the VM, stage 2 the rounds in between. The VM is suspended from
// stage3_start until the destination resumes it at stage3_end; `end` adds the final acknowledgement.
struct Migration {
  std::string vm;
  std::string src;
  std::string dst;
  double start        = 0;
  double end          = -1;
  double stage1_bytes = 0;
  double stage1_end   = -1;
  int stage2_rounds   = 0;
  double stage2_bytes = 0;
  double stage3_start = -1;
  double stage3_bytes = 0;
  double stage3_end   = -1;
  bool suspended      = false; // the plugin suspended the VM: the next transfer is stage 3
  int transfers       = 0;
};

std::vector<Migration> g_migrations;
std::map<std::string, size_t> g_migrating;            // VM name -> index in g_migrations
std::map<const sg4::Comm*, size_t> g_migration_comms; // transfers in flight -> index in g_migrations
std::map<const sg4::Comm*, int> g_migration_stage;

// The plugin's data mailbox is named "<prefix>:<vm>(<src>-<dst>)"; returns the VM's name or "".
std::string migration_vm_of(const sg4::Comm& comm)
{
  const sg4::Mailbox* mbox = comm.get_mailbox();
  if (mbox == nullptr)
    return "";
  const std::string& name = mbox->get_name();
  if (name.rfind("__mbox_mig_src_dst:", 0) != 0)
    return "";
  const auto colon = name.find(':');
  const auto paren = name.rfind('(');
  if (paren == std::string::npos || paren <= colon)
    return "";
  return name.substr(colon + 1, paren - colon - 1);
}

void on_migration_send(const sg4::Comm& comm)
{
  const std::string vm = migration_vm_of(comm);
  auto found           = g_migrating.find(vm);
  if (vm.empty() || found == g_migrating.end())
    return;
  Migration& mig    = g_migrations[found->second];
  const double size = comm.get_remaining();
  int stage         = 2;
  if (mig.transfers == 0) {
    stage            = 1;
    mig.stage1_bytes = size;
  } else if (mig.suspended) {
    stage            = 3;
    mig.stage3_start = sg4::Engine::get_clock();
    mig.stage3_bytes = size;
  } else {
    mig.stage2_rounds++;
    mig.stage2_bytes += size;
  }
  mig.transfers++;
  g_migration_comms[&comm] = found->second;
  g_migration_stage[&comm] = stage;
}

void on_migration_transfer_end(const sg4::Activity& activity)
{
  const auto* comm = dynamic_cast<const sg4::Comm*>(&activity);
  if (comm == nullptr)
    return;
  auto found = g_migration_comms.find(comm);
  if (found == g_migration_comms.end())
    return;
  Migration& mig  = g_migrations[found->second];
  const int stage = g_migration_stage[comm];
  if (stage == 1)
    mig.stage1_end = sg4::Engine::get_clock();
  else if (stage == 3)
    mig.stage3_end = sg4::Engine::get_clock();
  g_migration_stage.erase(comm);
  g_migration_comms.erase(found);
}

void on_vm_suspend(const sg4::VirtualMachine& vm)
{
  auto found = g_migrating.find(vm.get_name());
  if (found != g_migrating.end())
    g_migrations[found->second].suspended = true;
}

// vm_migrate <vm> <dst_pm>: sg_vm_migrate, which blocks the calling actor until the VM runs on dst_pm.
void do_vm_migrate(simgrid::xbt::ReplayAction& action)
{
  sg4::VirtualMachine* vm = vm_of(action, 2);
  sg4::Host* dst          = pm_of(action, 3);
  Migration mig;
  mig.vm    = vm->get_name();
  mig.src   = vm->get_pm()->get_name();
  mig.dst   = dst->get_name();
  mig.start = sg4::Engine::get_clock();
  g_migrations.push_back(mig);
  const size_t index = g_migrations.size() - 1;
  g_migrating[mig.vm] = index;
  sg_vm_migrate(vm, dst);
  g_migrations[index].end = sg4::Engine::get_clock();
  g_migrating.erase(g_migrations[index].vm);
}

void write_migrations(const std::string& path)
{
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "replay_ref: cannot write %s\n", path.c_str());
    std::exit(3);
  }
  std::fprintf(out, "vm,src,dst,start,end,stage1_bytes,stage1_end,stage2_rounds,stage2_bytes,stage3_start,"
                    "stage3_bytes,stage3_end\n");
  for (const auto& m : g_migrations)
    std::fprintf(out, "%s,%s,%s,%.17g,%.17g,%.17g,%.17g,%d,%.17g,%.17g,%.17g,%.17g\n", m.vm.c_str(), m.src.c_str(),
                 m.dst.c_str(), m.start, m.end, m.stage1_bytes, m.stage1_end, m.stage2_rounds, m.stage2_bytes,
                 m.stage3_start, m.stage3_bytes, m.stage3_end);
  std::fclose(out);
}

// ---------------------------------------------------------------------------------------------------------------

// compute <flops> [priority]: a plain execution, or one whose sharing penalty is 1/priority on its host.
void do_compute(simgrid::xbt::ReplayAction& action)
{
  const double flops = flops_of(action, 2);
  if (action.size() > 3) {
    size_t used           = 0;
    const double priority = std::stod(action[3], &used);
    if (used != action[3].size() || not(priority > 0))
      die("'" + describe(action) + "': the priority must be a positive number");
    sg4::this_actor::exec_init(flops)->set_priority(priority)->wait();
  } else {
    sg4::this_actor::execute(flops);
  }
}

void do_send(simgrid::xbt::ReplayAction& action)
{
  const std::string& dst = arg(action, 2, "dst");
  const double size      = bytes_of(action, 3);
  mailbox(sg4::this_actor::get_name(), dst)->put(&g_token, static_cast<uint64_t>(size));
}

void do_recv(simgrid::xbt::ReplayAction& action)
{
  const std::string& src = arg(action, 2, "src");
  mailbox(src, sg4::this_actor::get_name())->get<int>();
}

void do_isend(simgrid::xbt::ReplayAction& action)
{
  const std::string& dst = arg(action, 2, "dst");
  const double size      = bytes_of(action, 3);
  const std::string me   = sg4::this_actor::get_name();
  g_pending[me].push_back(mailbox(me, dst)->put_async(&g_token, static_cast<uint64_t>(size)));
}

// The received pointer lands in a slot that must outlive the request; the slots are never read.
std::deque<int*> g_recv_slots;

void do_irecv(simgrid::xbt::ReplayAction& action)
{
  const std::string& src = arg(action, 2, "src");
  const std::string me   = sg4::this_actor::get_name();
  g_recv_slots.push_back(nullptr);
  g_pending[me].push_back(mailbox(src, me)->get_async<int>(&g_recv_slots.back()));
}

// wait: completes the actor's oldest pending request.
void do_wait(simgrid::xbt::ReplayAction& action)
{
  auto& queue = g_pending[sg4::this_actor::get_name()];
  if (queue.empty())
    die("'" + describe(action) + "': no pending request to wait for");
  sg4::CommPtr comm = queue.front();
  queue.pop_front();
  comm->wait();
}

// waitall: completes every pending request of the actor (it ends when the last one does).
void do_waitall(simgrid::xbt::ReplayAction&)
{
  auto& queue = g_pending[sg4::this_actor::get_name()];
  std::vector<sg4::CommPtr> comms(queue.begin(), queue.end());
  queue.clear();
  if (not comms.empty())
    sg4::Comm::wait_all(comms);
}

void do_sleep(simgrid::xbt::ReplayAction& action)
{
  sg4::this_actor::sleep_for(seconds_of(action, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Demand-driven load

// One row of the --loads table: the load action #seq of `actor`, what it asked for and what it got, in flops.
struct LoadRow {
  std::string actor;
  long seq;
  double demand;
  double served;
};

std::vector<LoadRow> g_loads;

// load <fraction> <duration>: for `duration` seconds the actor asks `fraction` of its host's vCPU capacity. On a VM
// of n vCPUs whose PM has cores of speed s (on a PM of n cores of speed s), it starts n asynchronous executions
// bounded by fraction x s each (a core at most, as SimGrid spreads a VM's work over its vCPUs), sleeps `duration`,
// then reads what each one computed (amount - get_remaining(), flops up to this date included) and cancels it; the
// action ends at the end of the interval whatever it got (unmet demand is lost). Fraction 0 starts no execution at
// all: SimGrid reads a bound of 0 as no bound, so a bounded execution cannot ask for nothing (Facts).
// Each execution's amount, 2 x bound x duration + 1 flop, cannot complete within the interval: the bound caps what
// it computes at bound x duration, so at least bound x duration + 1 flop remains at the end, far above the precision
// below which SimGrid counts an action as done (maxmin/precision x surf/precision = 1e-14 flop), whatever the
// fraction; and amount - remaining is off by an ulp of amount at most.
void do_load(simgrid::xbt::ReplayAction& action)
{
  const std::string me    = sg4::this_actor::get_name();
  const long seq          = g_next_seq[me] - 1; // timed() took this action's seq before calling us
  const std::string& text = arg(action, 2, "fraction");
  size_t used             = 0;
  const double fraction   = std::stod(text, &used);
  if (used != text.size() || not(fraction >= 0 && fraction <= 1))
    die("'" + describe(action) + "': the fraction must be a number from 0 to 1, found '" + text + "'");
  const double duration = seconds_of(action, 3);
  if (not(duration >= 0) || std::isinf(duration))
    die("'" + describe(action) + "': the duration must be a finite number of seconds >= 0");
  sg4::Host* host               = sg4::this_actor::get_host();
  const sg4::VirtualMachine* vm = dynamic_cast<sg4::VirtualMachine*>(host);
  const sg4::Host* pm           = vm != nullptr ? vm->get_pm() : host;
  const int cores               = vm != nullptr ? vm->get_core_count() : host->get_core_count();
  const double speed            = pm->get_speed();
  const double bound            = fraction * speed;
  const double demand           = fraction * cores * speed * duration;
  const double amount           = 2 * bound * duration + 1;
  std::vector<sg4::ExecPtr> execs;
  if (fraction > 0)
    for (int i = 0; i < cores; i++)
      execs.push_back(sg4::this_actor::exec_init(amount)->set_bound(bound)->start());
  sg4::this_actor::sleep_for(duration);
  double served = 0;
  for (const auto& exec : execs) {
    served += amount - exec->get_remaining();
    exec->cancel();
  }
  g_loads.push_back(LoadRow{me, seq, demand, served});
}

void write_loads(const std::string& path)
{
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "replay_ref: cannot write %s\n", path.c_str());
    std::exit(3);
  }
  std::sort(g_loads.begin(), g_loads.end(), [](const LoadRow& a, const LoadRow& b) {
    return a.actor != b.actor ? a.actor < b.actor : a.seq < b.seq;
  });
  std::fprintf(out, "actor,seq,demand,served\n");
  for (const auto& row : g_loads)
    std::fprintf(out, "%s,%ld,%.17g,%.17g\n", row.actor.c_str(), row.seq, row.demand, row.served);
  std::fclose(out);
}

// set_pstate <host> <index>: Host::set_pstate on a physical host; the index must name one of its power states.
void do_set_pstate(simgrid::xbt::ReplayAction& action)
{
  sg4::Host* host           = pm_of(action, 2, "host");
  const std::string& value  = arg(action, 3, "index");
  const unsigned long count = host->get_pstate_count();
  const auto is_digit       = [](unsigned char c) { return std::isdigit(c) != 0; };
  const bool whole = not value.empty() && value.size() < 10 && std::all_of(value.begin(), value.end(), is_digit);
  const unsigned long index = whole ? std::stoul(value) : count; // count: not a valid index
  if (index >= count)
    die("'" + describe(action) + "': the pstate index must be a whole number from 0 to " + std::to_string(count - 1) +
        " (host '" + host->get_name() + "' has " + std::to_string(count) + " power states), found '" + value + "'");
  host->set_pstate(index);
}

// host_off <host> / host_on <host>: Host::turn_off / Host::turn_on of a physical host (instant; a no-op when the host
// is already in that state). Turning a host off kills its actors (the issuer too, when it runs there: its row is
// then "killed"), shuts its VMs down (killing their actors) and fails the transfers from and to it.
void do_host_off(simgrid::xbt::ReplayAction& action)
{
  pm_of(action, 2, "host")->turn_off();
}

void do_host_on(simgrid::xbt::ReplayAction& action)
{
  pm_of(action, 2, "host")->turn_on();
}

sg4::Link* link_of(const simgrid::xbt::ReplayAction& action, size_t index)
{
  const std::string& name = arg(action, index, "link");
  sg4::Link* link         = sg4::Link::by_name_or_null(name);
  if (link == nullptr && name != "__loopback__") {
    try { // a SPLITDUPLEX link's own name: both directions (its <name>_UP and <name>_DOWN are ordinary links)
      link = sg4::SplitDuplexLink::by_name(name);
    } catch (const std::invalid_argument&) {
      link = nullptr;
    }
  }
  if (link == nullptr || name == "__loopback__")
    die("'" + describe(action) + "': no link named '" + name + "' in the platform");
  return link;
}

// link_off <link> / link_on <link>: Link::turn_off / Link::turn_on (instant). Turning a link off fails every transfer
// whose LMM variable uses it, i.e. whose route or (with cross-traffic) reverse route crosses it.
void do_link_off(simgrid::xbt::ReplayAction& action)
{
  link_of(action, 2)->turn_off();
}

void do_link_on(simgrid::xbt::ReplayAction& action)
{
  link_of(action, 2)->turn_on();
}

bool is_file(const std::string& path)
{
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string resolve_trace(const std::string& name)
{
  if (name.empty() || name.front() == '/' || is_file(name) || g_deploy_dir.empty())
    return name;
  std::string beside = g_deploy_dir + "/" + name;
  return is_file(beside) ? beside : name;
}

void actor_main(std::vector<std::string> args)
{
  g_started++;
  const std::string me = sg4::this_actor::get_name();
  try {
    if (g_shared_mode) {
      simgrid::xbt::replay_runner(me.c_str());
    } else {
      if (args.size() < 2)
        die("actor '" + me + "' has no trace file: give a shared trace on the command line or an <argument> naming "
                            "its own trace in the deployment");
      const std::string path = resolve_trace(args[1]);
      simgrid::xbt::replay_runner(me.c_str(), path.c_str());
    }
  } catch (const ActorFailed&) { // its "failed" row is written; it stops here
    return;
  }
  if (not g_pending[me].empty())
    std::fprintf(stderr, "replay_ref: actor '%s' ended with %zu pending request(s)\n", me.c_str(),
                 g_pending[me].size());
  g_finished++;
}

// The energy rows (--energy): hosts with wattage_per_state, then links with wattage_range, each sorted by name.
void print_energy(const sg4::Engine& engine)
{
  std::vector<std::pair<std::string, double>> rows;
  for (const sg4::Host* host : engine.get_all_hosts())
    if (dynamic_cast<const sg4::VirtualMachine*>(host) == nullptr && host->get_property("wattage_per_state") != nullptr)
      rows.emplace_back("host:" + host->get_name(), sg_host_get_consumed_energy(host));
  for (const sg4::Link* link : engine.get_all_links())
    if (link->get_name() != "__loopback__" && link->get_property("wattage_range") != nullptr)
      rows.emplace_back("link:" + link->get_name(), sg_link_get_consumed_energy(link));
  std::sort(rows.begin(), rows.end());
  for (const auto& [name, joules] : rows)
    std::printf("energy,-1,%s,0,%.17g\n", name.c_str(), joules);
}

} // namespace

int main(int argc, char* argv[])
{
  // Quiet by default; a --log given by the user comes later in argv and so takes precedence. --migrations=FILE,
  // --loads=FILE and --energy are ours and are taken out before SimGrid sees the arguments.
  std::vector<char*> args;
  args.push_back(argv[0]);
  std::string quiet = "--log=root.thres:critical";
  args.push_back(quiet.data());
  std::string migrations_path;
  const std::string migrations_flag = "--migrations=";
  std::string loads_path;
  const std::string loads_flag = "--loads=";
  bool energy = false;
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]).rfind(migrations_flag, 0) == 0)
      migrations_path = std::string(argv[i]).substr(migrations_flag.size());
    else if (std::string(argv[i]).rfind(loads_flag, 0) == 0)
      loads_path = std::string(argv[i]).substr(loads_flag.size());
    else if (std::string(argv[i]) == "--energy")
      energy = true;
    else
      args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  int count = static_cast<int>(args.size()) - 1;

  sg4::Engine engine(&count, args.data());
  if (count < 3 || count > 4) {
    std::fprintf(stderr,
                 "usage: %s PLATFORM.xml DEPLOY.xml [SHARED_TRACE] [--migrations=FILE] [--loads=FILE] [--energy] "
                 "[--cfg=NAME:VALUE]... [--log=...]...\n",
                 argv[0]);
    return 2;
  }
  const std::string platform = args[1];
  const std::string deploy   = args[2];
  const auto slash           = deploy.find_last_of('/');
  g_deploy_dir               = slash == std::string::npos ? std::string() : deploy.substr(0, slash);

  sg_vm_live_migration_plugin_init();
  if (energy) { // before the platform is loaded: the plugins attach their data to hosts and links as they are created
    sg_host_energy_plugin_init();
    sg_link_energy_plugin_init();
  }

  xbt_replay_action_register("init", timed(do_init));
  xbt_replay_action_register("finalize", timed(do_nothing));
  xbt_replay_action_register("compute", timed(do_compute));
  xbt_replay_action_register("send", timed(do_send));
  xbt_replay_action_register("recv", timed(do_recv));
  xbt_replay_action_register("isend", timed(do_isend));
  xbt_replay_action_register("irecv", timed(do_irecv));
  xbt_replay_action_register("wait", timed(do_wait));
  xbt_replay_action_register("waitall", timed(do_waitall));
  xbt_replay_action_register("sleep", timed(do_sleep));
  xbt_replay_action_register("load", timed(do_load));
  xbt_replay_action_register("set_pstate", timed(do_set_pstate));
  xbt_replay_action_register("vm_create", timed(do_vm_create));
  xbt_replay_action_register("vm_start", timed(do_vm_start));
  xbt_replay_action_register("vm_suspend", timed(do_vm_suspend));
  xbt_replay_action_register("vm_resume", timed(do_vm_resume));
  xbt_replay_action_register("vm_shutdown", timed(do_vm_shutdown));
  xbt_replay_action_register("vm_destroy", timed(do_vm_destroy));
  xbt_replay_action_register("vm_set_bound", timed(do_vm_set_bound));
  xbt_replay_action_register("vm_migrate", timed(do_vm_migrate));
  xbt_replay_action_register("host_off", timed(do_host_off));
  xbt_replay_action_register("host_on", timed(do_host_on));
  xbt_replay_action_register("link_off", timed(do_link_off));
  xbt_replay_action_register("link_on", timed(do_link_on));
  xbt_replay_action_register("vm_save", timed(do_unsupported));
  xbt_replay_action_register("vm_restore", timed(do_unsupported));

  sg4::Engine::on_deadlock_cb([] { g_deadlock = true; });
  sg4::Actor::on_creation_cb([](const sg4::Actor& actor) {
    g_last_created      = actor.get_name();
    g_last_created_host = actor.get_host();
  });
  sg4::Comm::on_send_cb(on_migration_send);
  sg4::Activity::on_completion_cb(on_migration_transfer_end);
  sg4::VirtualMachine::on_suspend_cb(on_vm_suspend);

  engine.load_platform(platform);
  engine.register_default([](std::vector<std::string> actor_args) {
    return [actor_args]() { actor_main(actor_args); };
  });
  engine.load_deployment(deploy);
  if (count == 4) {
    g_shared_mode = true;
    xbt_replay_set_tracefile(args[3]);
  }

  // A deployed actor whose start_time comes while its host is off: SimGrid 3.32 warns ("Cannot launch actor ... on
  // failed host") and throws HostFailureException from its start timer, which nothing catches in the kernel (the
  // process would abort). The reference catches it here, records the refused actor (the last one the kernel created:
  // Actor::on_creation fires before the host check) as killed at that date before its first action (row
  // "killed,0,<date>,<date>"), and resumes Engine::run, which goes on with the remaining timers: what SimGrid itself
  // does for an actor whose host is off when the deployment is loaded (warn and go on).
  while (true) {
    try {
      engine.run();
      break;
    } catch (const simgrid::HostFailureException& error) {
      const double now = sg4::Engine::get_clock();
      if (g_last_created.empty() || g_last_created_host == nullptr || g_last_created_host->is_on())
        throw;
      g_rows.push_back(Row{g_last_created, 0, "killed", now, now});
      g_refused++;
      std::fprintf(stderr, "replay_ref: actor '%s' not started at %.17g: its host '%s' is off (%s)\n",
                   g_last_created.c_str(), now, g_last_created_host->get_cname(), error.what());
      g_last_created.clear();
    }
  }

  std::sort(g_rows.begin(), g_rows.end(), [](const Row& a, const Row& b) {
    return a.actor != b.actor ? a.actor < b.actor : a.seq < b.seq;
  });
  std::printf("actor,seq,action,start,end\n");
  for (const auto& row : g_rows)
    std::printf("%s,%ld,%s,%.17g,%.17g\n", row.actor.c_str(), row.seq, row.action.c_str(), row.start, row.end);
  std::printf("*,-1,simulated_time,0,%.17g\n", sg4::Engine::get_clock());
  if (energy)
    print_energy(engine);
  std::fflush(stdout);
  if (not migrations_path.empty())
    write_migrations(migrations_path);
  if (not loads_path.empty())
    write_loads(loads_path);

  if (g_deadlock || g_finished + g_killed + g_failed != g_started) {
    std::fprintf(stderr,
                 "replay_ref: %d of %d actors finished their trace, %d were killed, %d failed (%d not started: host "
                 "off)%s\n",
                 g_finished, g_started, g_killed, g_failed, g_refused,
                 g_deadlock ? " (SimGrid reported a deadlock)" : "");
    for (const auto& [actor, vm] : g_waiting_for_vm)
      std::fprintf(stderr, "replay_ref: actor '%s' still waits in init for VM '%s' to run\n", actor.c_str(),
                   vm.c_str());
    return 3;
  }
  return 0;
}
