// Gradient checks by central differences, public so users can check their
// own layers. Use double precision: the bound is on the relative error
//   |analytic - numeric| / max(|analytic| + |numeric|, floor)
// with floor = 1e-7 (entries whose gradients are both ~0 are not judged on
// noise), and the default bound is 1e-6.
#pragma once

#include <cmath>
#include <functional>
#include <string>

#include "latent/layers/layer.hpp"

namespace latent::testing {

struct GradientReport {
    double max_error = 0;     // worst relative error
    std::string worst;        // which entry: "input(3,1)" or "weight(2,0)"
    double analytic = 0, numeric = 0;
    Index checked = 0;

    bool ok(double bound) const { return max_error <= bound; }
    std::string str() const {
        return "max relative error " + std::to_string(max_error) + " at " + worst + " (analytic " + std::to_string(analytic) +
               ", numeric " + std::to_string(numeric) + ") over " + std::to_string(checked) + " entries";
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

// Compare `analytic` with central differences of f around x (x restored).
inline GradientReport check_gradient(const std::function<double(const Vector<double>&)>& f, Vector<double> x,
                                     const Vector<double>& analytic, double h = 1e-6, const std::string& label = "x") {
    if (analytic.size() != x.size())
        throw ShapeError("check_gradient: expected an analytic gradient of size " + std::to_string(x.size()) + ", found " +
                         std::to_string(analytic.size()));
    GradientReport rep;
    for (Index i = 0; i < x.size(); ++i) {
        const double keep = x(i);
        x(i) = keep + h;
        const double up = f(x);
        x(i) = keep - h;
        const double down = f(x);
        x(i) = keep;
        rep.record(analytic(i), (up - down) / (2 * h), label + "(" + std::to_string(i) + ")");
    }
    return rep;
}

// Build a layer on its own for checking: binds its parameters into `params`,
// initializes them and attaches `rng` (both must outlive the layer's use).
inline void build_standalone(Layer<double>& layer, Shape input, ParamBuffer<double>& params, Rng& rng) {
    layer.attach_rng(&rng);
    layer.build(input);
    std::vector<NamedSlot<double>> slots;
    layer.collect_params("", slots);
    params.bind(std::move(slots));
    params.initialize(rng);
}

// Check a built layer's input and parameter gradients on batch x, through
// the scalar L = sum(R .* forward(x)) + penalty() with a fixed random R.
// Stochastic layers must be made deterministic first (freeze a dropout
// mask; run noise layers in infer mode).
inline GradientReport check_layer(Layer<double>& layer, ParamBuffer<double>& params, const Matrix<double>& x, Rng& rng,
                                  Mode mode = Mode::train, double h = 1e-6) {
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
        for (Index i = 0; i < x.rows(); ++i) {
            const double keep = xp(i, j);
            xp(i, j) = keep + h;
            const double up = loss_at(xp);
            xp(i, j) = keep - h;
            const double down = loss_at(xp);
            xp(i, j) = keep;
            rep.record(dx(i, j), (up - down) / (2 * h), "input(" + std::to_string(i) + "," + std::to_string(j) + ")");
        }
    Index offset = 0;
    for (const auto& s : params.slots()) {
        for (Index k = 0; k < s.slot->size(); ++k) {
            if (!s.slot->trainable) continue;
            double& w = s.slot->value[k];
            const double keep = w;
            w = keep + h;
            const double up = loss_at(x);
            w = keep - h;
            const double down = loss_at(x);
            w = keep;
            rep.record(dparams(offset + k), (up - down) / (2 * h), s.name + "[" + std::to_string(k) + "]");
        }
        offset += s.slot->size();
    }
    return rep;
}

}  // namespace latent::testing
