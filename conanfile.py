import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class LatentConan(ConanFile):
    name = "latent"
    description = "Header-only C++17 autoencoders on Eigen"
    license = "MIT"
    topics = ("autoencoder", "neural-network", "machine-learning", "eigen", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # with_blas: a BLAS (OpenBLAS) as a candidate engine for latent's matrix
    # products (include/latent/core/blas.hpp); latent measures it against its
    # own kernel and Eigen per product shape. Eigen stays the only required
    # dependency.
    options = {"with_blas": [True, False]}
    default_options = {"with_blas": False}
    no_copy_source = True
    # The recipe lives in latent's own repository, so the sources travel with
    # it (conan-center recipes download a release archive in source() instead).
    # Header-only: package() copies the headers, as nlohmann_json's recipe does.
    exports_sources = "include/*", "LICENSE"

    @property
    def _min_cppstd(self):
        return 17

    def set_version(self):
        # One version source: include/latent/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "latent", "version.hpp"))
        parts = [re.search(rf"#define LATENT_VERSION_{p} (\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = self.version or ".".join(parts)

    def layout(self):
        basic_layout(self)

    def requirements(self):
        # latent's public headers include Eigen's.
        self.requires("eigen/3.4.0", transitive_headers=True)
        if self.options.with_blas:
            self.requires("openblas/0.3.25")

    def package_id(self):
        # header-only: one package whatever the options (the BLAS is a
        # dependency and a define for consumers, not a build difference)
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, self._min_cppstd)

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "latent")
        self.cpp_info.set_property("cmake_target_name", "latent::latent")
        self.cpp_info.set_property("pkg_config_name", "latent")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        if self.options.with_blas:
            self.cpp_info.defines = ["LATENT_HAS_CBLAS=1", "LATENT_CBLAS_OPENBLAS=1"]
