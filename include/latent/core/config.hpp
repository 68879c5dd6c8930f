// LayerConfig: the architecture description of a layer (type, attributes,
// children). Written into model files so a model can be rebuilt without code.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/tensor.hpp"

namespace latent {

struct LayerConfig {
    std::string type;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<LayerConfig> children;

    LayerConfig() = default;
    explicit LayerConfig(std::string t) : type(std::move(t)) {}

    LayerConfig& set(const std::string& key, const std::string& value) {
        for (auto& kv : attrs)
            if (kv.first == key) {
                kv.second = value;
                return *this;
            }
        attrs.emplace_back(key, value);
        return *this;
    }
    LayerConfig& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
    LayerConfig& set(const std::string& key, double value) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", value);
        return set(key, std::string(buf));
    }
    LayerConfig& set(const std::string& key, Index value) { return set(key, std::to_string(value)); }
    LayerConfig& set(const std::string& key, int value) { return set(key, std::to_string(value)); }
    LayerConfig& set(const std::string& key, bool value) { return set(key, std::string(value ? "1" : "0")); }
    LayerConfig& set(const std::string& key, Shape s) {
        return set(key, std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w));
    }

    bool has(const std::string& key) const {
        for (const auto& kv : attrs)
            if (kv.first == key) return true;
        return false;
    }
    const std::string& get(const std::string& key) const {
        for (const auto& kv : attrs)
            if (kv.first == key) return kv.second;
        throw FormatError("layer " + type + ": expected attribute '" + key + "', found none");
    }
    std::string get_string(const std::string& key, const std::string& fallback) const {
        return has(key) ? get(key) : fallback;
    }
    double get_double(const std::string& key) const {
        const std::string& v = get(key);
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0')
            throw FormatError("layer " + type + ": expected a number for '" + key + "', found '" + v + "'");
        return d;
    }
    double get_double(const std::string& key, double fallback) const { return has(key) ? get_double(key) : fallback; }
    Index get_index(const std::string& key) const {
        const std::string& v = get(key);
        char* end = nullptr;
        const long long n = std::strtoll(v.c_str(), &end, 10);
        if (end == v.c_str() || *end != '\0')
            throw FormatError("layer " + type + ": expected an integer for '" + key + "', found '" + v + "'");
        return static_cast<Index>(n);
    }
    Index get_index(const std::string& key, Index fallback) const { return has(key) ? get_index(key) : fallback; }
    bool get_bool(const std::string& key, bool fallback = false) const { return has(key) ? get_index(key) != 0 : fallback; }
    Shape get_shape(const std::string& key) const {
        const std::string& v = get(key);
        Shape s;
        if (std::sscanf(v.c_str(), "%td,%td,%td", &s.c, &s.h, &s.w) != 3)
            throw FormatError("layer " + type + ": expected a shape c,h,w for '" + key + "', found '" + v + "'");
        return s;
    }

    friend bool operator==(const LayerConfig& a, const LayerConfig& b) {
        return a.type == b.type && a.attrs == b.attrs && a.children == b.children;
    }
    friend bool operator!=(const LayerConfig& a, const LayerConfig& b) { return !(a == b); }

    // Compact one-line form for messages: Dense{in=784,out=128}[...]
    std::string str() const {
        std::string s = type;
        if (!attrs.empty()) {
            s += "{";
            for (std::size_t i = 0; i < attrs.size(); ++i) s += (i ? "," : "") + attrs[i].first + "=" + attrs[i].second;
            s += "}";
        }
        if (!children.empty()) {
            s += "[";
            for (std::size_t i = 0; i < children.size(); ++i) s += (i ? ", " : "") + children[i].str();
            s += "]";
        }
        return s;
    }
};

}  // namespace latent
