// ConvTranspose2D: the adjoint of Conv2D (PyTorch's ConvTranspose2d, Keras'
// Conv2DTranspose). Its forward is a convolution's backward-data (col2im) and
// its backward-data a convolution's forward (im2col), through the same
// detail::ConvEngine.
//   X: C*Hi*Wi x batch, Y: F*Ho*Wo x batch, weight memory = PyTorch's (C, F, kh, kw)
//   Y = correlate^T(X; K) + b, where correlate maps F x Ho x Wo to C x Hi x Wi
// Output size per axis (k_eff = d*(k-1)+1, op = output_padding):
//   explicit p:  Ho = (Hi - 1)*s - 2p + k_eff + op      (PyTorch)
//   valid:       Ho = (Hi - 1)*s + k_eff + op
//   same:        Ho = Hi*s, padding max(k_eff - s, 0) split as TensorFlow does
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/conv2d.hpp"

LATENT_NAMESPACE_BEGIN

// The weight is PyTorch's (C, F, kh, kw) in an (F*kh*kw) x C map.
template <class S>
class ConvTranspose2D : public detail::ConvLayerBase<S> {
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

    ConvTranspose2D(Index filters, Size2 kernel, ConvOptions options = {}) : Base("ConvTranspose2D", filters, kernel, options) {
        const Size2 op = options.output_padding;
        if (op.h < 0 || op.w < 0 || op.h >= std::max(options.stride.h, options.dilation.h) ||
            op.w >= std::max(options.stride.w, options.dilation.w))
            throw ConfigError("ConvTranspose2D: expected 0 <= output_padding < max(stride, dilation) (" +
                              Size2(std::max(options.stride.h, options.dilation.h), std::max(options.stride.w, options.dilation.w)).str() +
                              "), found " + op.str());
        if (options.padding.kind == Padding::Kind::same && op != Size2(0))
            throw ConfigError("ConvTranspose2D: padding 'same' fixes the output at input*stride; expected output_padding 0, found " +
                              op.str());
    }

    std::string type() const override { return "ConvTranspose2D"; }

    Shape compute_output_shape(Shape in) const override {
        const detail::ConvGeometry g = geometry(in);
        return Shape{filters_, g.height, g.width};
    }

    // Y = correlate^T(X) + b   (col2im of X's rows times K)
    const Mat& forward(const Mat& x, Mode) override {
        this->check_input(x);
        x_ = &x;
        engine_.adjoint(x, weight_.value, &y_, nullptr, nullptr);
        if (opt_.bias) detail::add_channel_bias(y_, filters_, engine_.geometry().height * engine_.geometry().width, bias_.value);
        return y_;
    }

    // dX = correlate(dY), dK += im2col(dY)^T X (per position), db += sum dY
    const Mat& backward(const Mat& dy) override {
        this->require_forward(x_ != nullptr);
        this->check_grad(dy, x_->cols());
        const detail::ConvGeometry& g = engine_.geometry();
        if (opt_.bias) detail::accumulate_channel_sums(dy, filters_, g.height * g.width, bias_.grad);
        engine_.correlate(dy, weight_.value, this->input_grad_ ? &dx_ : nullptr, nullptr, x_, weight_.grad);
        return dx_;
    }

    LayerConfig config() const override { return this->conv_config(true); }
    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<ConvTranspose2D>(c.get_index("filters"), Size2(c.get_index("kernel_h"), c.get_index("kernel_w")),
                                                 detail::read_conv_options(c));
    }

protected:
    void on_build(Shape in, Shape) override {
        engine_.configure(geometry(in), in.c);
        // Each output sums about C*kh*kw/(sh*sw) products: that is its fan-in.
        // PyTorch's default init instead reads fan-in off its (C, F, kh, kw)
        // weight as F*kh*kw; `pytorch` follows it, so it draws what torch draws.
        const Index fan_out = filters_ * kernel_.h * kernel_.w;
        const Index fan_in = opt_.init == WeightInit::pytorch
                                 ? fan_out
                                 : std::max<Index>(in.c * kernel_.h * kernel_.w / (opt_.stride.h * opt_.stride.w), 1);
        this->declare_params(fan_out, in.c, fan_in, fan_out);
    }

private:
    // The geometry of the convolution this layer is the adjoint of: image
    // side = our output (F x Ho x Wo), patch grid = our input (Hi x Wi).
    detail::ConvGeometry geometry(Shape in) const {
        const std::string where = "layer ConvTranspose2D (kernel " + kernel_.str() + ", stride " + opt_.stride.str() + ", padding " +
                                  opt_.padding.str() + ", output_padding " + opt_.output_padding.str() + ")";
        if (in.size() <= 0) throw ShapeError(where + ": expected a non-empty image input, found " + in.str());
        auto axis = [&](Index n, Index k, Index s, Index d, Index p, Index op, const char* name, Index& out, Index& pad_before) {
            const Index k_eff = d * (k - 1) + 1;
            switch (opt_.padding.kind) {
                case Padding::Kind::same:
                    out = n * s;
                    pad_before = std::max<Index>(k_eff - s, 0) / 2;
                    break;
                case Padding::Kind::valid:
                    out = (n - 1) * s + k_eff + op;
                    pad_before = 0;
                    break;
                case Padding::Kind::explicit_amount:
                    out = (n - 1) * s - 2 * p + k_eff + op;
                    pad_before = p;
                    break;
            }
            if (out <= 0)
                throw ShapeError(where + ": expected an input whose output " + name + " (Hi-1)*s - 2p + k_eff + op is positive, found input " +
                                 in.str() + " giving " + std::to_string(out));
        };
        detail::ConvGeometry g;
        g.channels = filters_;
        g.kernel_h = kernel_.h;
        g.kernel_w = kernel_.w;
        g.stride_h = opt_.stride.h;
        g.stride_w = opt_.stride.w;
        g.dilation_h = opt_.dilation.h;
        g.dilation_w = opt_.dilation.w;
        g.out_h = in.h;
        g.out_w = in.w;
        axis(in.h, kernel_.h, opt_.stride.h, opt_.dilation.h, opt_.padding.amount.h, opt_.output_padding.h, "height", g.height, g.pad_top);
        axis(in.w, kernel_.w, opt_.stride.w, opt_.dilation.w, opt_.padding.amount.w, opt_.output_padding.w, "width", g.width, g.pad_left);
        return g;
    }
};

LATENT_NAMESPACE_END
