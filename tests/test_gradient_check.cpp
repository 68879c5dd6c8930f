// latent::testing::check_layer (testing/gradient_check.hpp) notices a
// backward that is wrong by a relative 1e-5.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::build_standalone;
using latent_test::MatD;

namespace {

// Dense with a backward that is wrong by a relative 1e-5: the checker must notice.
class SlightlyWrongDense : public Dense<double> {
public:
    using Dense<double>::Dense;
    const Mat& backward(const Mat& dy) override {
        scaled_ = dy * (1 + 1e-5);
        return Dense<double>::backward(scaled_);
    }

private:
    Mat scaled_;
};

}  // namespace

TEST_CASE("the gradient checker catches a gradient wrong by 1e-5", "[layers][gradcheck]") {
    Rng rng(70);
    SlightlyWrongDense d(4);
    ParamBuffer<double> p;
    build_standalone(d, Shape{3}, p, rng);
    const MatD x = MatD::Random(3, 2);
    const auto rep = latent::testing::check_layer(d, p, x, rng);
    INFO(rep.str());
    CHECK_FALSE(rep.ok(latent_test::grad_bound));
    CHECK(rep.max_error > 4e-6);
}
