// Allocation checks for the tests (not part of the library): include this
// FIRST in a test file. With EIGEN_RUNTIME_NO_MALLOC, Eigen checks every heap
// allocation it makes against set_is_malloc_allowed; a disallowed one fails
// an eigen_assert, which throws EigenAssertion here instead of aborting.
//
// Scope: allocations by Eigen objects (every Matrix and Vector in latent).
#pragma once

#define EIGEN_RUNTIME_NO_MALLOC
#include <memory>
#include <stdexcept>
#include <string>

struct EigenAssertion : std::logic_error {
    using std::logic_error::logic_error;
};
#define eigen_assert(x) \
    do {                \
        if (!(x)) throw EigenAssertion(#x); \
    } while (false)

#include <Eigen/Core>

namespace latent_test {

// Disallows Eigen allocations while alive.
struct NoMalloc {
    NoMalloc() { Eigen::internal::set_is_malloc_allowed(false); }
    ~NoMalloc() { Eigen::internal::set_is_malloc_allowed(true); }
};

// Runs step(i) for i = 0..times-1; every call after the first must not
// allocate. Returns "" or "<label> <i+1>: <the failed assertion>".
template <class F>
std::string later_calls_allocate(int times, const std::string& label, F&& step) {
    for (int i = 0; i < times; ++i) {
        try {
            std::unique_ptr<NoMalloc> guard;
            if (i > 0) guard = std::make_unique<NoMalloc>();
            step(i);
        } catch (const EigenAssertion& e) {
            Eigen::internal::set_is_malloc_allowed(true);
            return label + " " + std::to_string(i + 1) + ": " + e.what();
        }
    }
    return {};
}

}  // namespace latent_test
