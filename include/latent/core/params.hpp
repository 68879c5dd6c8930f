// Parameters live in one flat buffer per model (values and gradients);
// layers declare slots when they are built and then hold maps into it.
// Optimizers, gradient checks and serialization see the flat vectors.
#pragma once

#include "latent/core/abi.hpp"

#include <algorithm>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/init.hpp"

LATENT_NAMESPACE_BEGIN

// One parameter tensor of a layer: declared at build, bound to the buffer.
template <class S>
struct ParamSlot {
    std::string name;       // "weight", "bias", ...
    Index rows = 0;
    Index cols = 0;
    Init init;
    bool decay = true;      // weight decay / L1 / L2 apply (weights yes, biases no)
    bool trainable = true;  // false: a saved buffer such as BatchNorm's running mean, never given a gradient
    S* value = nullptr;     // set by ParamBuffer::bind
    S* grad = nullptr;

    Index size() const { return rows * cols; }
    MatrixMap<S> w() const { return MatrixMap<S>(value, rows, cols); }
    MatrixMap<S> g() const { return MatrixMap<S>(grad, rows, cols); }
    bool bound() const { return value != nullptr; }
};

// A named, flat view of one parameter: no copies.
template <class S>
struct ParamView {
    std::string name;  // full path, PyTorch style: "encoder.0.weight"
    MatrixMap<S> value;
    MatrixMap<S> grad;
    bool decay;
};

template <class S>
struct NamedSlot {
    std::string name;
    ParamSlot<S>* slot;
};

namespace detail {

// A cap on the parameter values a ParamBuffer may lay out on this thread,
// set while a model is rebuilt from outside bytes: the file's parameter
// table (checked against the bytes it holds) bounds what its architecture
// may allocate, so a corrupted layer size throws FormatError before any
// memory is taken. Scoped (RAII) and per thread; nothing else sets it.
struct ParamBudgetState {
    Index limit = -1;  // -1: no cap
    const std::string* what = nullptr;
};
inline ParamBudgetState& param_budget_state() {
    static thread_local ParamBudgetState state;
    return state;
}
class ParamBudget {
public:
    ParamBudget(Index limit, std::string what) : saved_(param_budget_state()), what_(std::move(what)) {
        param_budget_state() = {limit, &what_};
    }
    ~ParamBudget() { param_budget_state() = saved_; }
    ParamBudget(const ParamBudget&) = delete;
    ParamBudget& operator=(const ParamBudget&) = delete;

private:
    ParamBudgetState saved_;
    std::string what_;
};

// Total size of the slots, checked: no negative or overflowing sizes, and
// within the thread's ParamBudget when one is set.
template <class S>
Index checked_param_total(const std::vector<NamedSlot<S>>& slots) {
    constexpr Index max_total = Index{1} << 40;
    const ParamBudgetState& budget = param_budget_state();
    Index total = 0;
    for (const auto& s : slots) {
        const Index r = s.slot->rows, c = s.slot->cols;
        if (r < 0 || c < 0 || (c > 0 && r > (max_total - total) / c))
            throw ShapeError("parameter '" + s.name + "': expected a size of at most 2^40 values in all, found " + std::to_string(r) +
                             " x " + std::to_string(c) + " after " + std::to_string(total) + " values");
        total += r * c;
        if (budget.limit >= 0 && total > budget.limit)
            throw FormatError((budget.what ? *budget.what + ": " : std::string()) + "the architecture needs more than " +
                              std::to_string(budget.limit) + " parameter values (the parameter table's total), found " +
                              std::to_string(total) + " by parameter '" + s.name + "' (" + std::to_string(r) + " x " +
                              std::to_string(c) + ")");
    }
    return total;
}

}  // namespace detail

template <class S>
class ParamBuffer {
public:
    using VecMap = Eigen::Map<Vector<S>>;

    ParamBuffer() = default;
    // Slots point into our storage: a copy would alias the original's layers.
    ParamBuffer(const ParamBuffer&) = delete;
    ParamBuffer& operator=(const ParamBuffer&) = delete;
    // A move keeps the storage where it is (the slots still point into it).
    ParamBuffer(ParamBuffer&& o) noexcept { take(o); }
    ParamBuffer& operator=(ParamBuffer&& o) noexcept {
        if (this != &o) take(o);
        return *this;
    }

    // Lay the slots out back to back and point each into the buffer.
    void bind(std::vector<NamedSlot<S>> slots) {
        const Index total = detail::checked_param_total(slots);
        slots_ = std::move(slots);
        own_values_.setZero(total);
        own_grads_.setZero(total);
        decay_mask_.setZero(total);
        seat(own_values_.data(), own_grads_.data(), total);
        Index offset = 0;
        for (auto& s : slots_) {
            if (s.slot->decay) decay_mask_.segment(offset, s.slot->size()).setOnes();
            offset += s.slot->size();
        }
    }

    // Point the slots at `source`'s values instead of storage of our own:
    // an inference copy of a model (serve/predictor.hpp) reads the shared
    // model's parameters and never writes them. The slots must match
    // source's (same names and sizes, in order); they get no gradients, and
    // this buffer's values()/grads() stay empty. `source` must outlive us
    // and keep its storage (assigning values of the same size keeps it;
    // fit with replicas that lend storage copies the values back into it).
    void share(std::vector<NamedSlot<S>> slots, const ParamBuffer& source) {
        if (slots.size() != source.slots_.size())
            throw ConfigError("ParamBuffer::share: expected " + std::to_string(source.slots_.size()) + " parameter tensors like the source, found " +
                              std::to_string(slots.size()));
        Index offset = 0;
        for (std::size_t i = 0; i < slots.size(); ++i) {
            const auto& mine = slots[i];
            const auto& theirs = source.slots_[i];
            if (mine.name != theirs.name || mine.slot->rows != theirs.slot->rows || mine.slot->cols != theirs.slot->cols)
                throw ConfigError("ParamBuffer::share: parameter " + std::to_string(i) + " is '" + mine.name + "' " +
                                  std::to_string(mine.slot->rows) + "x" + std::to_string(mine.slot->cols) + ", the source's '" + theirs.name +
                                  "' " + std::to_string(theirs.slot->rows) + "x" + std::to_string(theirs.slot->cols));
            mine.slot->value = const_cast<S*>(source.values_.data()) + offset;  // read only: inference never writes parameters
            mine.slot->grad = nullptr;
            offset += mine.slot->size();
        }
        slots_ = std::move(slots);
        own_values_.resize(0);
        own_grads_.resize(0);
        decay_mask_.resize(0);
        new (&values_) VecMap(nullptr, 0);
        new (&grads_) VecMap(nullptr, 0);
    }

    // A buffer that shares another's values (share) takes a copy of them
    // into storage of its own and points its slots there: from then on it
    // reads only its own memory (values() holds the copy; still no
    // gradients). Inference on several cores then reads one copy per core
    // instead of one set of cache lines that every core must share.
    void copy_shared_values() {
        Index total = 0;
        for (const auto& s : slots_) total += s.slot->size();
        if (values_.size() == total) return;  // owns its values already
        own_values_.resize(total);
        Index offset = 0;
        for (auto& s : slots_) {
            std::copy(s.slot->value, s.slot->value + s.slot->size(), own_values_.data() + offset);
            s.slot->value = own_values_.data() + offset;
            offset += s.slot->size();
        }
        new (&values_) VecMap(own_values_.data(), total);
    }

    // Keep the values and gradients in memory the caller lends (size()
    // values each; e.g. memory that data-parallel replicas on one machine
    // all map, see train/trainer.hpp): every slot points there from now on.
    // The gradients are copied there; the values too when copy_values (when
    // several buffers lend the same values memory, one copies). Until
    // reclaim_storage() the lender keeps the memory alive, and our own
    // storage keeps its place (unused).
    void lend_storage(S* values, S* grads, bool copy_values) {
        if (lent_) throw ConfigError("ParamBuffer::lend_storage: expected a buffer in its own storage, found one lent already");
        const Index n = size();
        if (copy_values) std::copy(values_.data(), values_.data() + n, values);
        std::copy(grads_.data(), grads_.data() + n, grads);
        seat(values, grads, n);
        lent_ = true;
    }
    // Copies the values and gradients back into our own storage (where they
    // were before lend_storage) and points the slots there again.
    void reclaim_storage() {
        if (!lent_) return;
        const Index n = size();
        std::copy(values_.data(), values_.data() + n, own_values_.data());
        std::copy(grads_.data(), grads_.data() + n, own_grads_.data());
        seat(own_values_.data(), own_grads_.data(), n);
        lent_ = false;
    }
    bool storage_lent() const { return lent_; }

    void initialize(Rng& rng) {
        for (auto& s : slots_) {
            auto w = s.slot->w();
            s.slot->init.apply(w, rng);
        }
    }

    void zero_grad() { grads_.setZero(); }

    // The flat values and gradients (maps of fixed size: assign, read,
    // segment; never resized).
    Index size() const { return values_.size(); }
    VecMap& values() { return values_; }
    const VecMap& values() const { return values_; }
    VecMap& grads() { return grads_; }
    const VecMap& grads() const { return grads_; }
    // 1 where weight decay applies, 0 elsewhere (biases, norms).
    const Vector<S>& decay_mask() const { return decay_mask_; }

    std::vector<ParamView<S>> views() const {
        std::vector<ParamView<S>> out;
        out.reserve(slots_.size());
        for (const auto& s : slots_) out.push_back({s.name, s.slot->w(), s.slot->g(), s.slot->decay});
        return out;
    }
    const std::vector<NamedSlot<S>>& slots() const { return slots_; }

private:
    // values_ and grads_ (maps) point at `values` and `grads`, the slots too.
    void seat(S* values, S* grads, Index n) {
        new (&values_) VecMap(values, n);
        new (&grads_) VecMap(grads, n);
        Index offset = 0;
        for (auto& s : slots_) {
            s.slot->value = values + offset;
            s.slot->grad = grads + offset;
            offset += s.slot->size();
        }
    }
    void take(ParamBuffer& o) noexcept {
        slots_ = std::move(o.slots_);
        own_values_ = std::move(o.own_values_);  // a moved Eigen vector keeps its heap block: the maps stay valid
        own_grads_ = std::move(o.own_grads_);
        decay_mask_ = std::move(o.decay_mask_);
        lent_ = o.lent_;
        new (&values_) VecMap(o.values_.data(), o.values_.size());
        new (&grads_) VecMap(o.grads_.data(), o.grads_.size());
        new (&o.values_) VecMap(nullptr, 0);
        new (&o.grads_) VecMap(nullptr, 0);
        o.lent_ = false;
    }

    std::vector<NamedSlot<S>> slots_;
    Vector<S> own_values_, own_grads_;  // our storage
    VecMap values_{nullptr, 0}, grads_{nullptr, 0};  // where the values and gradients are: our storage, or lent memory
    Vector<S> decay_mask_;
    bool lent_ = false;
};

LATENT_NAMESPACE_END
