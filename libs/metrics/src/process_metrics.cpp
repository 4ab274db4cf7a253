#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "moneta/metrics/registry.hpp"

namespace moneta::metrics {
namespace {

/// Fields of /proc/self/stat after the command name (which may contain spaces).
std::vector<std::string> stat_fields() {
    std::ifstream in("/proc/self/stat");
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');
    std::vector<std::string> out;
    if (close == std::string::npos) {
        return out;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string f;
    while (rest >> f) {
        out.push_back(f);
    }
    return out;  // out[0] is field 3 (state)
}

double stat_field(std::size_t field_number) {
    const auto f = stat_fields();
    const std::size_t idx = field_number - 3;
    return idx < f.size() ? std::stod(f[idx]) : 0;
}

double boot_time_seconds() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> value;
            return value;
        }
        in.ignore(1 << 20, '\n');
    }
    return 0;
}

double count_fds() {
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) {
        return 0;
    }
    double n = 0;
    while (const dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') {
            ++n;
        }
    }
    closedir(d);
    return n - 1;  // the directory handle itself
}

}  // namespace

void register_process_metrics(Registry& r) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // Start time is fixed: compute once (field 22 = starttime in ticks since boot).
    const double start = boot_time_seconds() + stat_field(22) / ticks;
    r.callback_counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
                       [ticks] { return (stat_field(14) + stat_field(15)) / ticks; });
    r.callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                     [page] { return stat_field(24) * page; });
    r.callback_gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                     [] { return stat_field(23); });
    r.callback_gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", {},
                     [] {
                         rlimit lim{};
                         getrlimit(RLIMIT_AS, &lim);
                         return lim.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(lim.rlim_cur);
                     });
    r.callback_gauge("process_open_fds", "Number of open file descriptors.", {}, [] { return count_fds(); });
    r.callback_gauge("process_max_fds", "Maximum number of open file descriptors.", {}, [] {
        rlimit lim{};
        getrlimit(RLIMIT_NOFILE, &lim);
        return static_cast<double>(lim.rlim_cur);
    });
    r.callback_gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", {},
                     [start] { return start; });
    r.callback_gauge("process_threads", "Number of OS threads in the process.", {},
                     [] { return stat_field(20); });
}

}  // namespace moneta::metrics
