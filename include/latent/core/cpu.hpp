// What the CPU that runs reports about itself: model name, vector ISA and
// data cache sizes. The GEMM kernel's blocking comes from these sizes (not
// from constants measured on one machine), and the benchmarks print them.
#pragma once

#include "latent/core/abi.hpp"

#include <fstream>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

LATENT_NAMESPACE_BEGIN

struct CpuInfo {
    std::string model;      // /proc/cpuinfo's "model name" (empty when unknown)
    std::string isa;        // "avx512", "avx2+fma" or "generic": what our float kernel can use
    long l1d_bytes = 0;     // per core; 0 when unknown
    long l2_bytes = 0;      // per core
    long l3_bytes = 0;      // per package (shared)
};

namespace detail {

// "32K", "512K", "32M" or plain bytes (sysfs cache/index*/size).
inline long parse_cache_size(const std::string& s) {
    long v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + (s[i] - '0');
    if (i < s.size() && (s[i] == 'K' || s[i] == 'k')) v *= 1024;
    if (i < s.size() && (s[i] == 'M' || s[i] == 'm')) v *= 1024 * 1024;
    return v;
}

inline std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (in) std::getline(in, line);
    return line;
}

inline CpuInfo detect_cpu() {
    CpuInfo c;
    {
        std::ifstream in("/proc/cpuinfo");
        std::string line;
        while (std::getline(in, line))
            if (line.compare(0, 10, "model name") == 0) {
                const auto colon = line.find(':');
                if (colon != std::string::npos) c.model = line.substr(line.find_first_not_of(" \t", colon + 1));
                break;
            }
    }
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    __builtin_cpu_init();
    c.isa = __builtin_cpu_supports("avx512f")                                         ? "avx512"
            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2+fma"
                                                                                      : "generic";
#else
    c.isa = "generic";
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    c.l1d_bytes = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    c.l2_bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
    c.l3_bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    // sysfs where glibc does not know (it answers 0 or -1 on some CPUs and in some containers)
    for (int i = 0; i < 8; ++i) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
        const std::string level = read_first_line(dir + "level"), type = read_first_line(dir + "type");
        if (level.empty()) break;
        const long size = parse_cache_size(read_first_line(dir + "size"));
        if (level == "1" && type == "Data" && c.l1d_bytes <= 0) c.l1d_bytes = size;
        if (level == "2" && c.l2_bytes <= 0) c.l2_bytes = size;
        if (level == "3" && c.l3_bytes <= 0) c.l3_bytes = size;
    }
    if (c.l1d_bytes < 0) c.l1d_bytes = 0;
    if (c.l2_bytes < 0) c.l2_bytes = 0;
    if (c.l3_bytes < 0) c.l3_bytes = 0;
    return c;
}

}  // namespace detail

// Detected once, on first use.
inline const CpuInfo& cpu_info() {
    static const CpuInfo info = detail::detect_cpu();
    return info;
}

LATENT_NAMESPACE_END
