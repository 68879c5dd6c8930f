// GRU, PyTorch's formulation and gate order (r, z, n):
//   a = W_ih x + b_ih,  b = W_hh h + b_hh            (3H rows: r, z, n)
//   r = sigmoid(a_r + b_r)   z = sigmoid(a_z + b_z)
//   n = tanh(a_n + r * b_n)  h' = (1 - z) * n + z * h
// State [h]. The driver (recurrent.hpp) does the GEMMs, masks and BPTT.
#pragma once

#include "latent/core/abi.hpp"

#include "latent/layers/recurrent.hpp"

LATENT_NAMESPACE_BEGIN

template <class S>
class GRUCell : public RecurrentCell<S> {
public:
    using typename RecurrentCell<S>::CRef;
    using typename RecurrentCell<S>::Ref;

    std::string name() const override { return "GRU"; }
    Index gates() const override { return 3; }
    Index states() const override { return 1; }
    Index cache_blocks() const override { return 4; }  // r, z, n, b_n

    void forward(CRef a, CRef b, CRef prev, Ref next, Ref cache) const override {
        const Index H = prev.rows();
        cache.topRows(2 * H).array() = detail::logistic((a.topRows(2 * H) + b.topRows(2 * H)).array());  // r, z
        cache.bottomRows(H) = b.bottomRows(H);                                                           // b_n
        const auto r = cache.topRows(H).array();
        const auto z = cache.middleRows(H, H).array();
        cache.middleRows(2 * H, H).array() = (a.bottomRows(H).array() + r * cache.bottomRows(H).array()).tanh();  // n
        const auto n = cache.middleRows(2 * H, H).array();
        next.array() = (S(1) - z) * n + z * prev.array();
    }

    // dA_n = dh (1-z)(1-n^2), dB_n = dA_n r, dA_r = dB_r = dA_n b_n r(1-r),
    // dA_z = dB_z = dh (h - n) z(1-z), d_prev (direct) = dh z
    void backward(CRef cache, CRef prev, CRef d_next, Ref da, Ref db, Ref d_prev) const override {
        const Index H = prev.rows();
        const auto r = cache.topRows(H).array();
        const auto z = cache.middleRows(H, H).array();
        const auto n = cache.middleRows(2 * H, H).array();
        const auto bn = cache.bottomRows(H).array();
        const auto dh = d_next.array();
        auto dan = da.bottomRows(H).array();
        dan = dh * (S(1) - z) * (S(1) - n.square());
        db.bottomRows(H).array() = dan * r;
        da.topRows(H).array() = dan * bn * r * (S(1) - r);
        da.middleRows(H, H).array() = dh * (prev.array() - n) * z * (S(1) - z);
        db.topRows(2 * H) = da.topRows(2 * H);
        d_prev.array() = dh * z;
    }
};

template <class S>
class GRU : public Recurrent<S> {
public:
    // output: RnnOutput::last (the last hidden state, H x N) or ::sequence.
    explicit GRU(Index units, RnnOutput output = RnnOutput::last)
        : Recurrent<S>(std::make_unique<GRUCell<S>>(), units, output) {}

    static LayerPtr<S> from_config(const LayerConfig& c) {
        return std::make_unique<GRU>(c.get_index("units"), rnn_output_from_name(c.get_string("output", "last")));
    }
};

LATENT_NAMESPACE_END
