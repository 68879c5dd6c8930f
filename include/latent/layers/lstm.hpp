// LSTM, PyTorch's formulation and gate order (i, f, g, o):
//   z = W_ih x + b_ih + W_hh h + b_hh          (4H rows: i, f, g, o)
//   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
//   c' = f * c + i * g       h' = o * tanh(c')
// State [h; c]. The driver (recurrent.hpp) does the GEMMs, masks and BPTT.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/recurrent.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class LSTMCell : public RecurrentCell<S> {
public:
    using typename RecurrentCell<S>::CRef;
    using typename RecurrentCell<S>::Ref;

    std::string name() const override { return "LSTM"; }
    Index gates() const override { return 4; }
    Index states() const override { return 2; }
    Index cache_blocks() const override { return 5; }  // i, f, g, o, tanh(c')
    bool shared_gate_grad() const override { return true; }

    void forward(CRef a, CRef b, CRef prev, Ref next, Ref cache) const override {
        const Index H = prev.rows() / 2;
        cache.topRows(4 * H) = a + b;
        cache.topRows(2 * H).array() = detail::logistic(cache.topRows(2 * H).array());      // i, f
        cache.middleRows(2 * H, H).array() = cache.middleRows(2 * H, H).array().tanh();       // g
        cache.middleRows(3 * H, H).array() = detail::logistic(cache.middleRows(3 * H, H).array());  // o
        const auto i = cache.topRows(H).array();
        const auto f = cache.middleRows(H, H).array();
        const auto g = cache.middleRows(2 * H, H).array();
        const auto o = cache.middleRows(3 * H, H).array();
        next.bottomRows(H).array() = f * prev.bottomRows(H).array() + i * g;  // c'
        cache.bottomRows(H).array() = next.bottomRows(H).array().tanh();
        next.topRows(H).array() = o * cache.bottomRows(H).array();          // h'
    }

    // dc = dc' + dh' o (1 - tanh^2 c')
    // dz_i = dc g i(1-i), dz_f = dc c f(1-f), dz_g = dc i (1-g^2), dz_o = dh' tanh(c') o(1-o)
    // d_prev: dh (direct) = 0, dc = dc f
    void backward(CRef cache, CRef prev, CRef d_next, Ref da, Ref, Ref d_prev) const override {
        const Index H = prev.rows() / 2;
        const auto i = cache.topRows(H).array();
        const auto f = cache.middleRows(H, H).array();
        const auto g = cache.middleRows(2 * H, H).array();
        const auto o = cache.middleRows(3 * H, H).array();
        const auto tc = cache.bottomRows(H).array();
        const auto dh = d_next.topRows(H).array();
        auto dc = d_prev.bottomRows(H).array();  // holds dc until the last line
        dc = d_next.bottomRows(H).array() + dh * o * (S(1) - tc.square());
        da.topRows(H).array() = dc * g * i * (S(1) - i);
        da.middleRows(H, H).array() = dc * prev.bottomRows(H).array() * f * (S(1) - f);
        da.middleRows(2 * H, H).array() = dc * i * (S(1) - g.square());
        da.bottomRows(H).array() = dh * tc * o * (S(1) - o);
        d_prev.topRows(H).setZero();
        dc *= f;
    }
};

template <class S>
class LSTM : public Recurrent<S> {
public:
    // output: RnnOutput::last (the last hidden state, H x N) or ::sequence.
    explicit LSTM(Index units, RnnOutput output = RnnOutput::last)
        : Recurrent<S>(std::make_unique<LSTMCell<S>>(), units, output) {}

    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<LSTM>(c.get_index("units"), rnn_output_from_name(c.get_string("output", "last")));
    }
};

LATENT_NAMESPACE_END
