// ImageSet: labelled images as the rest of the library wants them.
#pragma once

#include "latent/core/abi.hpp"

#include <string>
#include <vector>

#include "latent/core/tensor.hpp"

LATENT_NAMESPACE_BEGIN

// x: features x N (one image per column, channel-major, index = c*H*W + y*W + x);
// labels: N class indices; shape: one sample's {c, h, w}.
template <class S>
struct ImageSet {
    Matrix<S> x;
    std::vector<int> labels;
    Shape shape;

    Index size() const { return x.cols(); }
};

// The ten Fashion-MNIST classes, in label order.
inline const std::vector<std::string>& fashion_mnist_class_names() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

LATENT_NAMESPACE_END
