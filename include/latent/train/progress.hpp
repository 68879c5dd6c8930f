// A one-line progress bar on stderr, drawn only when stderr is a terminal
// (quiet in CI and in pipes).
#pragma once

#include "latent/core/abi.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#if defined(_WIN32)
#include <io.h>
#define LATENT_ISATTY(fd) _isatty(fd)
#else
#include <unistd.h>
#define LATENT_ISATTY(fd) isatty(fd)
#endif

LATENT_NAMESPACE_BEGIN

inline bool stderr_is_terminal() { return LATENT_ISATTY(2) != 0; }

class ProgressBar {
public:
    using Clock = std::chrono::steady_clock;

    // enabled: draw at all; it also needs stderr to be a terminal.
    ProgressBar(long total, std::string label, bool enabled = true)
        : total_(total > 0 ? total : 1), label_(std::move(label)), on_(enabled && stderr_is_terminal()), start_(Clock::now()) {}

    // done items of total; `extra` follows the bar (loss, rate, ...).
    void update(long done, const std::string& extra = {}) {
        if (!on_) return;
        const auto now = Clock::now();
        if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double frac = static_cast<double>(done) / static_cast<double>(total_);
        const double elapsed = seconds();
        const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
        const int width = 24, filled = static_cast<int>(frac * width + 0.5);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(width, '.');
        std::fprintf(stderr, "\r%s [%s] %3d%% %s ETA %s   ", label_.c_str(), bar.c_str(), static_cast<int>(frac * 100 + 0.5),
                     extra.c_str(), format_seconds(eta).c_str());
        std::fflush(stderr);
    }
    // Replace the bar with a final line.
    void finish(const std::string& line) {
        if (!on_) return;
        std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
        std::fflush(stderr);
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    bool enabled() const { return on_; }

    static std::string format_seconds(double s) {
        char buf[32];
        const long t = static_cast<long>(s + 0.5);
        if (t >= 3600)
            std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
        else
            std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
        return buf;
    }

private:
    long total_;
    std::string label_;
    bool on_;
    Clock::time_point start_;
    Clock::time_point last_{};
};

LATENT_NAMESPACE_END
