// History: what fit() measured, one row per epoch.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/number_text.hpp"

LATENT_NAMESPACE_BEGIN

struct EpochLog {
    long epoch = 0;  // 1-based
    double loss = 0;
    double val_loss = std::numeric_limits<double>::quiet_NaN();  // NaN without validation data
    double learning_rate = 0;
    double seconds = 0;
    double samples_per_second = 0;
    std::vector<std::pair<std::string, double>> parts;  // named loss parts (train), e.g. recon, kl

    bool has_val() const { return !std::isnan(val_loss); }
    double part(const std::string& name) const {
        for (const auto& p : parts)
            if (p.first == name) return p.second;
        return std::numeric_limits<double>::quiet_NaN();
    }
};

struct History {
    std::vector<EpochLog> epochs;
    std::string stop_reason;  // empty when all epochs ran
    long best_epoch = 0;      // epoch whose weights the model holds after restore-best (0: last)

    // fit can return no epochs (epochs = 0, or OnNaN::stop in the first
    // epoch): last() then throws; last_epoch() is the non-throwing form.
    bool empty() const { return epochs.empty(); }
    const EpochLog& last() const {
        if (epochs.empty())
            throw Error("History::last: expected at least one epoch, found no epochs" +
                        (stop_reason.empty() ? std::string(" (fit ran with epochs = 0?)") : " (stopped: " + stop_reason + ")"));
        return epochs.back();
    }
    std::optional<EpochLog> last_epoch() const {
        if (epochs.empty()) return std::nullopt;
        return epochs.back();
    }
    double final_loss() const { return epochs.empty() ? std::numeric_limits<double>::quiet_NaN() : epochs.back().loss; }
    // Per-epoch series, as Keras' history.history["loss"] / ["val_loss"].
    std::vector<double> losses() const { return series(&EpochLog::loss); }
    std::vector<double> val_losses() const { return series(&EpochLog::val_loss); }

    std::string to_json() const {
        std::string o;
        auto num = [&](double v) { o += std::isfinite(v) ? detail::format_number(v, 9) : "null"; };
        auto str = [&](const std::string& t) {
            o += '"';
            for (char c : t) {
                if (c == '"' || c == '\\') {
                    o += '\\';
                    o += c;
                } else if (c == '\n') {
                    o += "\\n";
                } else if (static_cast<unsigned char>(c) < 0x20) {
                    static const char hex[] = "0123456789abcdef";
                    o += "\\u00";
                    o += hex[(c >> 4) & 0xf];
                    o += hex[c & 0xf];
                } else {
                    o += c;
                }
            }
            o += '"';
        };
        o += "{\"epochs\":[";
        for (std::size_t i = 0; i < epochs.size(); ++i) {
            const auto& e = epochs[i];
            o += (i ? ",{\"epoch\":" : "{\"epoch\":") + std::to_string(e.epoch) + ",\"loss\":";
            num(e.loss);
            o += ",\"val_loss\":";
            num(e.val_loss);
            o += ",\"learning_rate\":";
            num(e.learning_rate);
            o += ",\"seconds\":";
            num(e.seconds);
            o += ",\"samples_per_second\":";
            num(e.samples_per_second);
            for (const auto& p : e.parts) {
                o += ',';
                str(p.first);
                o += ':';
                num(p.second);
            }
            o += "}";
        }
        o += "],\"stop_reason\":";
        str(stop_reason);
        o += ",\"best_epoch\":" + std::to_string(best_epoch) + "}";
        return o;
    }

private:
    std::vector<double> series(double EpochLog::*field) const {
        std::vector<double> out;
        out.reserve(epochs.size());
        for (const auto& e : epochs) out.push_back(e.*field);
        return out;
    }
};

LATENT_NAMESPACE_END
