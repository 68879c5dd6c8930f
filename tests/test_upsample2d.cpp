// Upsample2D (layers/upsample2d.hpp): PyTorch golden values (bilinear with
// half-pixel centres and align_corners, nearest) and gradient checks.
#include "conv_support.hpp"
#include "golden/conv_golden_values.hpp"

using conv_test::check_golden;
using latent::Interpolation;
using latent::Shape;
using latent::Size2;
using latent::Upsample2D;

TEST_CASE("Upsample2D matches PyTorch: bilinear (half-pixel and align_corners) and nearest", "[pool][golden]") {
    Upsample2D<double> b2(2, Interpolation::bilinear);
    check_golden(b2, Shape{2, 3, 4}, 1, Shape{2, 6, 8}, golden::bilinear2_y, golden::bilinear2_dx);
    Upsample2D<double> ac(Size2(2, 3), Interpolation::bilinear, true);
    check_golden(ac, Shape{1, 3, 4}, 1, Shape{1, 6, 12}, golden::bilinear_ac_y, golden::bilinear_ac_dx);
    Upsample2D<double> n3(3);
    check_golden(n3, Shape{1, 2, 3}, 1, Shape{1, 6, 9}, golden::nearest3_y, golden::nearest3_dx);
}

TEST_CASE("Upsample2D gradients: nearest and bilinear, odd sizes, rectangular factors", "[pool][gradcheck]") {
    for (Size2 f : {Size2(2), Size2(3, 2), Size2(1, 3)})
        for (Shape in : {Shape{2, 3, 5}, Shape{1, 7, 4}}) {
            INFO("scale " << f.str() << " input " << in.str());
            Upsample2D<double> n(f);
            CONV_CHECK_GRADIENT(conv_test::gradcheck(n, in, 2));
            Upsample2D<double> b(f, Interpolation::bilinear);
            CONV_CHECK_GRADIENT(conv_test::gradcheck(b, in, 2));
            Upsample2D<double> ac(f, Interpolation::bilinear, true);
            CONV_CHECK_GRADIENT(conv_test::gradcheck(ac, in, 2));
        }
}
