// Data-parallel training over MPI (opt-in: include this header and link the
// CMake target latent::mpi, which brings MPI::MPI_CXX; the rest of latent
// never needs MPI).
//
//   latent::mpi::Environment env(argc, argv);          // MPI_Init / MPI_Finalize
//   latent::mpi::Communicator world;                    // MPI_COMM_WORLD
//   latent::FitOptions<float> opt;
//   opt.batch_size = 256;                               // the global batch
//   opt.replicas = &world;
//   auto history = latent::fit(ae, adam, x, opt);       // same call as on one process
//   if (world.rank() == 0) latent::save(ae, "ae.lat");
//
// Every rank builds the same model and reads the same data (or a source over
// the same file); fit() then
//   - broadcasts the parameters from rank 0 before the first step;
//   - draws the same batch order on every rank (Rng(seed)) and gives rank r
//     columns [n r / R, n (r + 1) / R) of every n-sample batch;
//   - averages the gradients with one MPI_Allreduce on the model's flat
//     gradient buffer per step, each rank weighted by its share of the batch
//     (so a short last batch counts each sample once);
//   - steps the optimizer identically everywhere (same gradients, same state);
//   - reduces the epoch's loss, its parts and the validation loss, so History
//     and callback decisions (early stopping, LR on plateau) are the same on
//     every rank;
//   - shows progress on rank 0 only.
// Not synchronized: BatchNorm normalizes each rank's share of the batch with
// that share's statistics (as PyTorch's DDP without SyncBatchNorm); its running
// statistics are averaged over ranks at the end of every epoch. Noise drawn
// inside a model (dropout, a VAE's sampling) comes from each replica's own Rng,
// identical on every rank unless the user reseeds it per rank. input_transform
// draws from a per-rank stream. Files: write them on rank 0
// (Communicator::rank(), TrainControl::rank in callbacks).
#pragma once

#include "latent/core/abi.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/train/trainer.hpp"

LATENT_NAMESPACE_BEGIN
namespace mpi {

namespace detail {
inline void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw Error(std::string(what) + ": expected MPI_SUCCESS, found error " + std::to_string(rc) + " (" + std::string(msg, len) + ")");
}
template <class S>
MPI_Datatype type_of();
template <>
inline MPI_Datatype type_of<float>() {
    return MPI_FLOAT;
}
template <>
inline MPI_Datatype type_of<double>() {
    return MPI_DOUBLE;
}
}  // namespace detail

// Initializes MPI for the lifetime of the object (unless it is initialized
// already) and finalizes it at the end if it initialized it. fit() calls MPI
// only from the calling thread (MPI_THREAD_FUNNELED is enough).
class Environment {
public:
    Environment() : Environment(nullptr, nullptr) {}
    Environment(int* argc, char*** argv) {
        int done = 0;
        MPI_Initialized(&done);
        if (done) return;
        int provided = 0;
        detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        owner_ = true;
    }
    Environment(int& argc, char**& argv) : Environment(&argc, &argv) {}
    ~Environment() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owner_ && !finalized) MPI_Finalize();
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

private:
    bool owner_ = false;
};

// fit()'s Replicas over an MPI communicator; counts the time spent in the
// gradient exchange (reduce-scatter and allgather, or allreduce) and the few
// other collectives fit makes.
class Communicator : public Replicas {
public:
    explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        detail::check(MPI_Comm_rank(comm, &rank_), "MPI_Comm_rank");
        detail::check(MPI_Comm_size(comm, &size_), "MPI_Comm_size");
        // The ranks that can map each other's memory (one machine).
        MPI_Comm node = MPI_COMM_NULL;
        detail::check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
        int node_size = 0;
        detail::check(MPI_Comm_size(node, &node_size), "MPI_Comm_size");
        MPI_Comm_free(&node);
        one_machine_ = node_size == size_;
    }
    ~Communicator() override {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (win_ != MPI_WIN_NULL && !finalized) free_window();  // only when a fit was left by an exception
    }
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    // When every rank runs on one machine, fit keeps the model's parameters
    // in an MPI shared-memory window for its length (Replicas::attach): one
    // copy of the values that every rank reads and each rank's optimizer
    // writes its share of, and each rank's gradients, which the others sum
    // from directly. Nothing is copied between ranks in a step; the ranks
    // wait for each other twice (gradients ready, shares written). Off:
    // the ring of MPI_Sendrecv below (always, across machines).
    void set_shared_memory(bool on) { shared_memory_ = on; }
    bool shared_memory() const { return shared_memory_ && one_machine_; }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    MPI_Comm comm() const { return comm_; }

    void broadcast(float* data, Index n) override { bcast(data, n); }
    void broadcast(double* data, Index n) override { bcast(data, n); }
    void sum(float* data, Index n) override { allreduce(data, n, MPI_SUM); }
    void sum(double* data, Index n) override { allreduce(data, n, MPI_SUM); }
    void reduce_scatter(float* data, Index n, float weight) override { scatter_sum(data, n, weight); }
    void reduce_scatter(double* data, Index n, double weight) override { scatter_sum(data, n, weight); }
    void all_gather(float* data, Index n) override { gather(data, n); }
    void all_gather(double* data, Index n) override { gather(data, n); }
    bool attach(ParamBuffer<float>& p) override { return attach_window(p); }
    bool attach(ParamBuffer<double>& p) override { return attach_window(p); }
    void detach(ParamBuffer<float>& p) override { detach_window(p); }
    void detach(ParamBuffer<double>& p) override { detach_window(p); }
    void max(double* data, Index n) { allreduce(data, n, MPI_MAX); }
    void barrier() { detail::check(MPI_Barrier(comm_), "MPI_Barrier"); }

    // Seconds spent in the collectives that sum and gather (allreduce,
    // reduce-scatter, allgather), and how many, since construction or reset_timers().
    double allreduce_seconds() const { return seconds_; }
    long allreduces() const { return calls_; }
    void reset_timers() {
        seconds_ = 0;
        calls_ = 0;
    }

private:
    template <class S>
    void bcast(S* data, Index n) {
        for (Index at = 0; at < n; at += INT_MAX) {
            const int count = static_cast<int>(std::min<Index>(n - at, INT_MAX));
            detail::check(MPI_Bcast(data + at, count, detail::type_of<S>(), 0, comm_), "MPI_Bcast");
        }
    }
    template <class S>
    void allreduce(S* data, Index n, MPI_Op op) {
        const double t0 = MPI_Wtime();
        for (Index at = 0; at < n; at += INT_MAX) {
            const int count = static_cast<int>(std::min<Index>(n - at, INT_MAX));
            detail::check(MPI_Allreduce(MPI_IN_PLACE, data + at, count, detail::type_of<S>(), op, comm_), "MPI_Allreduce");
        }
        seconds_ += MPI_Wtime() - t0;
        ++calls_;
    }

    // The shares as MPI counts and displacements; false when a count or a
    // displacement does not fit an int (then the base class's sum-based
    // fallbacks run, chunked).
    bool shares(Index n) {
        counts_.resize(static_cast<std::size_t>(size_));
        displs_.resize(static_cast<std::size_t>(size_));
        if (n > INT_MAX) return false;
        for (int r = 0; r < size_; ++r) {
            displs_[static_cast<std::size_t>(r)] = static_cast<int>(shard_begin(n, r));
            counts_[static_cast<std::size_t>(r)] = static_cast<int>(shard_begin(n, r + 1) - shard_begin(n, r));
        }
        return true;
    }
    // A ring of MPI_Sendrecv calls, as NCCL and Horovod do: in R - 1 steps
    // each rank passes one share to the next rank and adds the share it
    // receives from the previous one, so rank r ends holding the sum of share
    // r. Open MPI's own MPI_Reduce_scatter took longer than a whole
    // MPI_Allreduce of the 22 MB deep-AE gradient on 2 ranks (5.3 against
    // 4.3 ms, Open MPI 4.1 on an Intel(R) Xeon(R) Processor (family 6 model
    // 167, avx512f)); this ring takes 2.8 ms there.
    // The shared window (see set_shared_memory): rank 0's segment holds the
    // values and its gradients, every other rank's its gradients.
    template <class S>
    bool attach_window(ParamBuffer<S>& p) {
        const Index n = p.size();
        if (!shared_memory() || size_ < 2 || n == 0 || win_ != MPI_WIN_NULL) return false;
        const auto bytes = static_cast<MPI_Aint>(sizeof(S)) * static_cast<MPI_Aint>(rank_ == 0 ? 2 * n : n);
        MPI_Info info;
        MPI_Info_create(&info);
        MPI_Info_set(info, "alloc_shared_noncontig", "true");  // each segment on its rank's NUMA node
        void* base = nullptr;
        // A machine without room for the window (a container's small
        // /dev/shm, say) falls back to messages, on every rank alike.
        MPI_Errhandler handler;
        MPI_Comm_get_errhandler(comm_, &handler);
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        const int rc = MPI_Win_allocate_shared(bytes, static_cast<int>(sizeof(S)), info, comm_, &base, &win_);
        MPI_Comm_set_errhandler(comm_, handler);
        MPI_Errhandler_free(&handler);
        MPI_Info_free(&info);
        int ok = rc == MPI_SUCCESS ? 1 : 0;
        detail::check(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
        if (!ok) {
            if (rc == MPI_SUCCESS) MPI_Win_free(&win_);
            win_ = MPI_WIN_NULL;
            shared_memory_ = false;
            return false;
        }
        detail::check(MPI_Win_lock_all(MPI_MODE_NOCHECK, win_), "MPI_Win_lock_all");
        peer_grads_.assign(static_cast<std::size_t>(size_), nullptr);
        for (int r = 0; r < size_; ++r) {
            MPI_Aint size = 0;
            int unit = 0;
            void* ptr = nullptr;
            detail::check(MPI_Win_shared_query(win_, r, &size, &unit, &ptr), "MPI_Win_shared_query");
            S* seg = static_cast<S*>(ptr);
            if (r == 0) shared_values_ = seg;
            peer_grads_[static_cast<std::size_t>(r)] = r == 0 ? seg + n : seg;
        }
        p.lend_storage(static_cast<S*>(shared_values_), static_cast<S*>(peer_grads_[static_cast<std::size_t>(rank_)]), rank_ == 0);
        shared_n_ = n;
        meet();  // rank 0's values are in place before anyone reads them
        return true;
    }
    template <class S>
    void detach_window(ParamBuffer<S>& p) {
        if (win_ == MPI_WIN_NULL) return;
        meet();  // every share written
        p.reclaim_storage();
        meet();  // every rank has its copy before the window goes
        free_window();
    }
    void free_window() {
        MPI_Win_unlock_all(win_);
        MPI_Win_free(&win_);
        win_ = MPI_WIN_NULL;
        shared_values_ = nullptr;
        peer_grads_.clear();
        shared_n_ = 0;
    }
    // A barrier with the window's memory synchronized on both sides.
    void meet() {
        MPI_Win_sync(win_);
        detail::check(MPI_Barrier(comm_), "MPI_Barrier");
        MPI_Win_sync(win_);
    }
    bool attached_grads(const void* data, Index n) const {
        return win_ != MPI_WIN_NULL && n == shared_n_ && data == peer_grads_[static_cast<std::size_t>(rank_)];
    }
    bool attached_values(const void* data, Index n) const { return win_ != MPI_WIN_NULL && n == shared_n_ && data == shared_values_; }

    template <class S>
    void scatter_sum(S* data, Index n, S weight) {
        if (attached_grads(data, n)) {  // sum this rank's share straight from the others' gradients
            const double t0 = MPI_Wtime();
            meet();
            const Index b = shard_begin(n, rank_), len = shard_begin(n, rank_ + 1) - b;
            auto own = Eigen::Map<Vector<S>>(data + b, len);
            const int last = rank_ == size_ - 1 ? size_ - 2 : size_ - 1;
            for (int r = 0; r < size_; ++r) {
                if (r == rank_) continue;
                const auto peer = Eigen::Map<const Vector<S>>(static_cast<const S*>(peer_grads_[static_cast<std::size_t>(r)]) + b, len);
                if (r == last)
                    own = (own + peer) * weight;  // one pass: the last sum and the weight
                else
                    own += peer;
            }
            seconds_ += MPI_Wtime() - t0;
            ++calls_;
            return;
        }
        if (!shares(n)) return Replicas::reduce_scatter(data, n, weight);
        const double t0 = MPI_Wtime();
        const int next = (rank_ + 1) % size_, prev = (rank_ + size_ - 1) % size_;
        Vector<S>& in = incoming(S{});
        const int largest = *std::max_element(counts_.begin(), counts_.end());
        if (in.size() < largest) in.resize(largest);  // shares differ in size: one buffer for all, allocated once
        for (int s = 0; s + 1 < size_; ++s) {
            const auto out_share = static_cast<std::size_t>((rank_ - s - 1 + 2 * size_) % size_);
            const auto in_share = static_cast<std::size_t>((rank_ - s - 2 + 2 * size_) % size_);
            detail::check(MPI_Sendrecv(data + displs_[out_share], counts_[out_share], detail::type_of<S>(), next, 0, in.data(),
                                       counts_[in_share], detail::type_of<S>(), prev, 0, comm_, MPI_STATUS_IGNORE),
                          "MPI_Sendrecv");
            auto share = Eigen::Map<Vector<S>>(data + displs_[in_share], counts_[in_share]);
            if (s + 2 == size_)
                share = (share + in.head(counts_[in_share])) * weight;  // the last step completes this rank's share
            else
                share += in.head(counts_[in_share]);
        }
        seconds_ += MPI_Wtime() - t0;
        ++calls_;
    }
    // The matching ring: each rank passes on the share it received last.
    template <class S>
    void gather(S* data, Index n) {
        if (attached_values(data, n)) {  // one copy of the values: wait until every share is written
            const double t0 = MPI_Wtime();
            meet();
            seconds_ += MPI_Wtime() - t0;
            ++calls_;
            return;
        }
        if (!shares(n)) return Replicas::all_gather(data, n);
        const double t0 = MPI_Wtime();
        const int next = (rank_ + 1) % size_, prev = (rank_ + size_ - 1) % size_;
        for (int s = 0; s + 1 < size_; ++s) {
            const auto out_share = static_cast<std::size_t>((rank_ - s + size_) % size_);
            const auto in_share = static_cast<std::size_t>((rank_ - s - 1 + size_) % size_);
            detail::check(MPI_Sendrecv(data + displs_[out_share], counts_[out_share], detail::type_of<S>(), next, 1,
                                       data + displs_[in_share], counts_[in_share], detail::type_of<S>(), prev, 1, comm_,
                                       MPI_STATUS_IGNORE),
                          "MPI_Sendrecv");
        }
        seconds_ += MPI_Wtime() - t0;
        ++calls_;
    }
    Vector<float>& incoming(float) { return in_float_; }
    Vector<double>& incoming(double) { return in_double_; }

    MPI_Comm comm_;
    bool one_machine_ = false, shared_memory_ = true;
    MPI_Win win_ = MPI_WIN_NULL;
    void* shared_values_ = nullptr;
    std::vector<void*> peer_grads_;
    Index shared_n_ = 0;
    std::vector<int> counts_, displs_;
    Vector<float> in_float_;
    Vector<double> in_double_;
    int rank_ = 0, size_ = 1;
    double seconds_ = 0;
    long calls_ = 0;
};

// The largest |value - rank 0's value| over all parameters and ranks (0 when
// the replicas are in sync, as fit keeps them).
template <class S>
double max_param_divergence(const ParamBuffer<S>& params, Communicator& comm) {
    Vector<S> root = params.values();
    comm.broadcast(root.data(), root.size());
    double d = root.size() ? static_cast<double>((root - params.values()).cwiseAbs().maxCoeff()) : 0.0;
    comm.max(&d, 1);
    return d;
}

}  // namespace mpi
LATENT_NAMESPACE_END
