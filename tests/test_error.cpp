// core/error.hpp: every error derives from latent::Error (and
// std::runtime_error); detail::require builds the message from its parts.
#include "support.hpp"

#include <stdexcept>
#include <string>

#include <latent/latent.hpp>

using namespace latent;

TEST_CASE("every error derives from latent::Error", "[core]") {
    auto is_error = [](const std::exception& e) { return dynamic_cast<const Error*>(&e) != nullptr; };
    CHECK(is_error(ShapeError("s")));
    CHECK(is_error(DataError("d")));
    CHECK(is_error(FormatError("f")));
    CHECK(is_error(ConfigError("c")));
    CHECK(is_error(NumericError("n")));
    CHECK(is_error(FeatureError("x")));
    const ShapeError se("s");
    CHECK(dynamic_cast<const std::runtime_error*>(static_cast<const std::exception*>(&se)) != nullptr);
    try {
        detail::require<DataError>(false, "expected ", 3, ", found ", 4.5);
        FAIL("require did not throw");
    } catch (const DataError& e) {
        CHECK(std::string(e.what()) == "expected 3, found 4.5");
    }
}
