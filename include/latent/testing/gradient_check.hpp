// Gradient checks by finite differences, public so users can check their
// own layers. Use double precision: the bound is on the relative error
//   |analytic - numeric| / max(|analytic| + |numeric|, floor)
// with floor = 1e-7 (entries whose gradients are both ~0 are not judged on
// noise), and the default bound is 1e-6.
//
// The numeric derivative is the five-point stencil
//   f'(x) ~ (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / (12 h),
// error O(h^4), with h = 1e-4: its rounding noise (~eps |f| / h) is about
// 100x below that of a plain central difference with h = 1e-6, so entries
// with gradients around 1e-5 are still judged reliably at 1e-6. Keep inputs
// at least 2h away from kinks (ReLU at 0, |d| = delta in Huber, ...).
#pragma once

#include "latent/core/abi.hpp"

#include <cmath>
#include <functional>
#include <sstream>
#include <string>

#include "latent/layers/layer.hpp"
#include "latent/models/network.hpp"

LATENT_NAMESPACE_BEGIN
namespace testing {

struct GradientReport {
    double max_error = 0;     // worst relative error
    std::string worst;        // which entry: "input(3,1)" or "weight(2,0)"
    double analytic = 0, numeric = 0;
    Index checked = 0;

    bool ok(double bound) const { return max_error <= bound; }
    std::string str() const {
        std::ostringstream o;  // %g-style: std::to_string would print 1e-9 as 0.000000
        o.precision(10);
        o << "max relative error " << max_error << " at " << worst << " (analytic " << analytic << ", numeric " << numeric
          << ") over " << checked << " entries";
        return o.str();
    }
    void record(double a, double n, const std::string& where) {
        const double err = std::abs(a - n) / std::max(std::abs(a) + std::abs(n), 1e-7);
        ++checked;
        if (err >= max_error) {
            max_error = err;
            worst = where;
            analytic = a;
            numeric = n;
        }
    }
};

namespace detail {

// d/dv f at v = value, by the five-point stencil; value is restored.
template <class F>
double five_point(double& value, double h, F&& f) {
    const double keep = value;
    value = keep + h;
    const double p1 = f();
    value = keep - h;
    const double m1 = f();
    value = keep + 2 * h;
    const double p2 = f();
    value = keep - 2 * h;
    const double m2 = f();
    value = keep;
    return (8 * (p1 - m1) - (p2 - m2)) / (12 * h);
}

}  // namespace detail

// Compare `analytic` with finite differences of f around x.
inline GradientReport check_gradient(const std::function<double(const Vector<double>&)>& f, Vector<double> x,
                                     const Vector<double>& analytic, double h = 1e-4, const std::string& label = "x") {
    if (analytic.size() != x.size())
        throw ShapeError("check_gradient: expected an analytic gradient of size " + std::to_string(x.size()) + ", found " +
                         std::to_string(analytic.size()));
    GradientReport rep;
    for (Index i = 0; i < x.size(); ++i)
        rep.record(analytic(i), detail::five_point(x(i), h, [&] { return f(x); }), label + "(" + std::to_string(i) + ")");
    return rep;
}

// Build a layer on its own for checking: binds its parameters into `params`,
// initializes them and attaches `rng` (both must outlive the layer's use).
// Any scalar, so float layers can be compared with double ones.
template <class S>
void build_standalone(Layer<S>& layer, Shape input, ParamBuffer<S>& params, Rng& rng) {
    layer.attach_rng(&rng);
    latent::detail::build_and_bind(layer, input, params, rng);
}

// Check a built layer's input and parameter gradients on batch x, through
// the scalar L = sum(R .* forward(x)) + penalty() with a fixed random R.
// Stochastic layers must be made deterministic first (freeze a dropout
// mask; run noise layers in infer mode).
inline GradientReport check_layer(Layer<double>& layer, ParamBuffer<double>& params, const Matrix<double>& x, Rng& rng,
                                  Mode mode = Mode::train, double h = 1e-4) {
    layer.set_input_grad(true);
    Matrix<double> r(layer.output_shape().size(), x.cols());
    rng.fill_normal(r);
    auto loss_at = [&](const Matrix<double>& input) {
        const Matrix<double>& y = layer.forward(input, mode);
        return (r.array() * y.array()).sum() + layer.penalty();
    };

    params.zero_grad();
    loss_at(x);
    const Matrix<double> dx = layer.backward(r);
    const Vector<double> dparams = params.grads();

    GradientReport rep;
    Matrix<double> xp = x;
    for (Index j = 0; j < x.cols(); ++j)
        for (Index i = 0; i < x.rows(); ++i)
            rep.record(dx(i, j), detail::five_point(xp(i, j), h, [&] { return loss_at(xp); }),
                       "input(" + std::to_string(i) + "," + std::to_string(j) + ")");
    Index offset = 0;
    for (const auto& s : params.slots()) {
        for (Index k = 0; k < s.slot->size(); ++k) {
            if (!s.slot->trainable) continue;
            rep.record(dparams(offset + k), detail::five_point(s.slot->value[k], h, [&] { return loss_at(x); }),
                       s.name + "[" + std::to_string(k) + "]");
        }
        offset += s.slot->size();
    }
    return rep;
}

}  // namespace testing
LATENT_NAMESPACE_END
