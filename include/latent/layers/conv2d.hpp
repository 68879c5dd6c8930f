// Conv2D: 2-D cross-correlation, as PyTorch's Conv2d and Keras' Conv2D.
//   X: C*H*W x batch (channel-major), Y: F*Ho*Wo x batch
//   Y[f, oy, ox] = b[f] + sum_{c,ky,kx} K[f,c,ky,kx] X[c, oy*s - pt + ky*d, ox*s - pl + kx*d]
// The weight is stored as the (C*kh*kw) x F matrix whose memory is PyTorch's
// (F, C, kh, kw) weight; the mechanism (im2col + GEMM) is in im2col.hpp.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/dense.hpp"
#include "latent/layers/detail/conv_engine.hpp"

LATENT_NAMESPACE_BEGIN

// Options shared by Conv2D and ConvTranspose2D.
struct ConvOptions {
    Size2 stride{1};
    Padding padding = Padding::valid();
    Size2 dilation{1};
    Size2 output_padding{0};  // ConvTranspose2D only: extra rows/columns at the bottom/right, < stride
    bool bias = true;
    WeightInit init = WeightInit::glorot;  // Keras' default; he for ReLU stacks

    static ConvOptions same(Size2 stride = 1) {
        ConvOptions o;
        o.padding = Padding::same();
        o.stride = stride;
        return o;
    }
    static ConvOptions valid(Size2 stride = 1) {
        ConvOptions o;
        o.stride = stride;
        return o;
    }
    // PyTorch style: `pad` zeros on each side.
    static ConvOptions padded(Size2 pad, Size2 stride = 1, Size2 output_padding = 0) {
        ConvOptions o;
        o.padding = Padding(pad.h, pad.w);
        o.stride = stride;
        o.output_padding = output_padding;
        return o;
    }
    ConvOptions& with_init(WeightInit i) {
        init = i;
        return *this;
    }
    ConvOptions& with_bias(bool b) {
        bias = b;
        return *this;
    }
    ConvOptions& with_dilation(Size2 d) {
        dilation = d;
        return *this;
    }
};

namespace detail {

inline void check_conv_options(const std::string& layer, Index filters, Size2 kernel, const ConvOptions& o) {
    auto positive = [&](Size2 v, const char* what) {
        if (v.h <= 0 || v.w <= 0) throw ConfigError(layer + ": expected " + what + " > 0, found " + v.str());
    };
    if (filters <= 0) throw ConfigError(layer + ": expected filters > 0, found " + std::to_string(filters));
    positive(kernel, "kernel size");
    positive(o.stride, "stride");
    positive(o.dilation, "dilation");
    if (o.padding.kind == Padding::Kind::explicit_amount && (o.padding.amount.h < 0 || o.padding.amount.w < 0))
        throw ConfigError(layer + ": expected padding >= 0, found " + o.padding.amount.str());
}

inline void write_conv_config(LayerConfig& c, Index filters, Size2 kernel, const ConvOptions& o, bool transposed) {
    c.set("filters", filters).set("kernel_h", kernel.h).set("kernel_w", kernel.w);
    c.set("stride_h", o.stride.h).set("stride_w", o.stride.w);
    c.set("padding", o.padding.name());
    if (o.padding.kind == Padding::Kind::explicit_amount) c.set("pad_h", o.padding.amount.h).set("pad_w", o.padding.amount.w);
    c.set("dilation_h", o.dilation.h).set("dilation_w", o.dilation.w);
    if (transposed) c.set("output_padding_h", o.output_padding.h).set("output_padding_w", o.output_padding.w);
    c.set("bias", o.bias).set("init", weight_init_name(o.init));
}

inline ConvOptions read_conv_options(const LayerConfig& c) {
    ConvOptions o;
    o.stride = Size2(c.get_index("stride_h", 1), c.get_index("stride_w", 1));
    const std::string pad = c.get_string("padding", "valid");
    if (pad == "explicit")
        o.padding = Padding(c.get_index("pad_h"), c.get_index("pad_w"));
    else
        o.padding = Padding::parse(pad);
    o.dilation = Size2(c.get_index("dilation_h", 1), c.get_index("dilation_w", 1));
    o.output_padding = Size2(c.get_index("output_padding_h", 0), c.get_index("output_padding_w", 0));
    o.bias = c.get_bool("bias", true);
    o.init = weight_init_from_name(c.get_string("init", "glorot"));
    return o;
}

// Conv geometry for input `in` (throws ShapeError naming `layer`).
inline ConvGeometry conv_geometry(const std::string& layer, Shape in, Size2 kernel, const ConvOptions& o) {
    const Index dkh = o.dilation.h * (kernel.h - 1) + 1, dkw = o.dilation.w * (kernel.w - 1) + 1;
    const std::string where = "layer " + layer + " (kernel " + kernel.str() + ", stride " + o.stride.str() + ", padding " +
                              o.padding.str() + ")";
    if (in.size() <= 0) throw ShapeError(where + ": expected a non-empty image input, found " + in.str());
    const AxisPlan ph = plan_window_axis(in.h, dkh, o.stride.h, o.padding, o.padding.amount.h, false, where, "height", in);
    const AxisPlan pw = plan_window_axis(in.w, dkw, o.stride.w, o.padding, o.padding.amount.w, false, where, "width", in);
    ConvGeometry g;
    g.channels = in.c;
    g.height = in.h;
    g.width = in.w;
    g.kernel_h = kernel.h;
    g.kernel_w = kernel.w;
    g.stride_h = o.stride.h;
    g.stride_w = o.stride.w;
    g.dilation_h = o.dilation.h;
    g.dilation_w = o.dilation.w;
    g.pad_top = ph.pad_before;
    g.pad_left = pw.pad_before;
    g.out_h = ph.out;
    g.out_w = pw.out;
    return g;
}

}  // namespace detail

namespace detail {

// What Conv2D and ConvTranspose2D share: filters, kernel and options, the
// weight and bias slots, the im2col engine and the accessors over them. A
// derived layer says which way its products run through the engine and how
// its weight is shaped.
template <class S>
class ConvLayerBase : public Layer<S> {
public:
    using Mat = Matrix<S>;

    Index filters() const { return filters_; }
    Size2 kernel() const { return kernel_; }
    const ConvOptions& options() const { return opt_; }

    void collect_params(const std::string& prefix, std::vector<NamedSlot<S>>& out) override {
        this->add_slot(prefix, weight_, out);
        if (opt_.bias) this->add_slot(prefix, bias_, out);
    }

    // The weight in PyTorch's memory layout (see each layer), and the bias (F x 1).
    MatrixMap<S> weight() const { return weight_.w(); }
    MatrixMap<S> bias() const { return bias_.w(); }
    // Multiply-adds of one forward pass per sample.
    double macs_per_sample() const { return engine_.macs(1); }
    // Scalars of im2col buffer per chunk and thread (default 2^18).
    void set_im2col_budget(Index scalars) { engine_.set_budget(scalars); }
    // How the products are computed (automatic: chosen per shape); every
    // choice gives the same result up to rounding.
    void set_algorithm(ConvAlgorithm a) { engine_.set_algorithm(a); }
    // The algorithm that runs (after the first call when automatic: measured per layer shape).
    ConvAlgorithm algorithm() const { return engine_.algorithm(); }

protected:
    ConvLayerBase(const char* layer_type, Index filters, Size2 kernel, ConvOptions options)
        : filters_(filters), kernel_(kernel), opt_(options) {
        check_conv_options(layer_type, filters, kernel, options);
    }

    LayerConfig conv_config(bool transposed) const {
        LayerConfig c(this->type());
        write_conv_config(c, filters_, kernel_, opt_, transposed);
        return c;
    }

    // A rows x cols weight initialized for (fan_in, fan_out), and F biases.
    void declare_params(Index rows, Index cols, Index fan_in, Index fan_out) {
        weight_ = {"weight", rows, cols, weight_init(opt_.init, fan_in, fan_out), true};
        bias_ = {"bias", filters_, 1, bias_init(opt_.init, fan_in), false};
    }

    Index filters_;
    Size2 kernel_;
    ConvOptions opt_;
    ParamSlot<S> weight_, bias_;
    ConvEngine<S> engine_;
    const Mat* x_ = nullptr;
    Mat y_, dx_;
};

}  // namespace detail

// The weight is PyTorch's (F, C, kh, kw) in a (C*kh*kw) x F map.
template <class S>
class Conv2D : public detail::ConvLayerBase<S> {
    using Base = detail::ConvLayerBase<S>;
    using Base::bias_;
    using Base::dx_;
    using Base::engine_;
    using Base::filters_;
    using Base::kernel_;
    using Base::opt_;
    using Base::weight_;
    using Base::x_;
    using Base::y_;

public:
    using Mat = Matrix<S>;

    Conv2D(Index filters, Size2 kernel, ConvOptions options = {}) : Base("Conv2D", filters, kernel, options) {
        if (options.output_padding != Size2(0))
            throw ConfigError("Conv2D: output_padding applies to ConvTranspose2D only, found " + options.output_padding.str());
    }

    std::string type() const override { return "Conv2D"; }

    Shape compute_output_shape(Shape in) const override {
        const detail::ConvGeometry g = detail::conv_geometry(type(), in, kernel_, opt_);
        return Shape{filters_, g.out_h, g.out_w};
    }

    // Y = correlate(X; K) + b
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        x_ = &x;
        engine_.correlate(x, weight_.value, &y_, opt_.bias ? bias_.value : nullptr, nullptr, nullptr);
        return y_;
    }

    // dK += im2col(X)^T dY (per position), db += sum dY, dX = correlate^T(dY)
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        const Index P = engine_.geometry().positions();
        if (opt_.bias) detail::accumulate_channel_sums(dy, filters_, P, bias_.grad);
        engine_.adjoint(dy, weight_.value, this->input_grad_ ? &dx_ : nullptr, x_, weight_.grad);
        return dx_;
    }

    LayerConfig config() const override { return this->conv_config(false); }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<Conv2D>(c.get_index("filters"), Size2(c.get_index("kernel_h"), c.get_index("kernel_w")),
                                        detail::read_conv_options(c));
    }

protected:
    void on_build(Shape in, Shape) override {
        const detail::ConvGeometry g = detail::conv_geometry(type(), in, kernel_, opt_);
        engine_.configure(g, filters_);
        const Index fan_in = in.c * kernel_.h * kernel_.w, fan_out = filters_ * kernel_.h * kernel_.w;
        this->declare_params(fan_in, filters_, fan_in, fan_out);
    }
};

LATENT_NAMESPACE_END
