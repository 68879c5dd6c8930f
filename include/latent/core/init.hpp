// Parameter initializers. fan_in / fan_out follow PyTorch: for a dense
// weight (out x in) they are in and out; for a conv kernel they are
// in_channels*k*k and out_channels*k*k.
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <string>

#include "latent/core/rng.hpp"

LATENT_NAMESPACE_BEGIN

enum class InitKind { zeros, ones, constant, uniform, normal, glorot_uniform, glorot_normal, he_uniform, he_normal };

struct Init {
    InitKind kind = InitKind::glorot_uniform;
    double a = 0.0;  // constant value, uniform half-width, or normal stddev
    Index fan_in = 1;
    Index fan_out = 1;

    static Init zeros() { return {InitKind::zeros}; }
    static Init ones() { return {InitKind::ones}; }
    static Init constant(double v) { return {InitKind::constant, v}; }
    static Init uniform(double half_width) { return {InitKind::uniform, half_width}; }
    static Init normal(double stddev) { return {InitKind::normal, stddev}; }
    static Init glorot_uniform(Index fan_in, Index fan_out) { return {InitKind::glorot_uniform, 0, fan_in, fan_out}; }
    static Init glorot_normal(Index fan_in, Index fan_out) { return {InitKind::glorot_normal, 0, fan_in, fan_out}; }
    static Init he_uniform(Index fan_in) { return {InitKind::he_uniform, 0, fan_in, 1}; }
    static Init he_normal(Index fan_in) { return {InitKind::he_normal, 0, fan_in, 1}; }

    template <class D>
    void apply(Eigen::DenseBase<D>& m, Rng& rng) const {
        using S = typename D::Scalar;
        const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
        switch (kind) {
            case InitKind::zeros: m.setZero(); break;
            case InitKind::ones: m.setOnes(); break;
            case InitKind::constant: m.setConstant(static_cast<S>(a)); break;
            case InitKind::uniform: rng.fill_uniform(m, -a, a); break;
            case InitKind::normal: rng.fill_normal(m, 0.0, a); break;
            case InitKind::glorot_uniform: {
                const double r = std::sqrt(6.0 / (fi + fo));
                rng.fill_uniform(m, -r, r);
                break;
            }
            case InitKind::glorot_normal: rng.fill_normal(m, 0.0, std::sqrt(2.0 / (fi + fo))); break;
            case InitKind::he_uniform: {
                const double r = std::sqrt(6.0 / fi);
                rng.fill_uniform(m, -r, r);
                break;
            }
            case InitKind::he_normal: rng.fill_normal(m, 0.0, std::sqrt(2.0 / fi)); break;
        }
    }
};

LATENT_NAMESPACE_END
