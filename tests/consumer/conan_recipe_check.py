"""Run conanfile.py's methods without Conan, and stage what `conan create` would.

The Conan client cannot run here (no access to its registry), so the few
conan.* names the recipe imports are stood in for by small versions, the
recipe's methods are called in the order Conan calls them, and the result is
checked. Then a config file like the one CMakeDeps writes from package_info()
(cmake_file_name, cmake_target_name) is generated, so the caller can build
test_package/ against the packaged tree exactly as Conan's test step would.

usage: conan_recipe_check.py <source dir> <work dir> <expected version>
"""
import fnmatch
import importlib.util
import os
import shutil
import sys
import types


def fail(msg):
    print("conan recipe check: " + msg, file=sys.stderr)
    sys.exit(1)


source_dir, work_dir, expected_version = sys.argv[1:4]
calls = []


# --- stand-ins for the conan API the recipe uses ----------------------------
class ConanFile:
    def __init__(self):
        self.version = None
        self.settings = types.SimpleNamespace(compiler=types.SimpleNamespace(cppstd="17"))
        self.info = types.SimpleNamespace(clear=lambda: calls.append("info.clear"))
        self.cpp_info = CppInfo()
        # Conan gives each instance its options, starting from default_options
        self.options = types.SimpleNamespace(**dict(getattr(type(self), "default_options", {})))

    def requires(self, ref, **kwargs):
        calls.append(("requires", ref, kwargs))


class CppInfo:
    def __init__(self):
        self.properties = {}
        self.bindirs = ["bin"]
        self.libdirs = ["lib"]
        self.includedirs = ["include"]
        self.defines = []

    def set_property(self, name, value):
        self.properties[name] = value


def check_min_cppstd(conanfile, cppstd):
    calls.append(("check_min_cppstd", int(cppstd)))


def load(conanfile, path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def copy(conanfile, pattern, src, dst):
    # Like conan.tools.files.copy: the pattern is matched against paths
    # relative to src ('*' also crosses '/').
    if not any(ch in pattern for ch in "*?["):
        candidates = [pattern] if os.path.isfile(os.path.join(src, pattern)) else []
    else:
        candidates = [os.path.relpath(os.path.join(r, f), src) for r, _, fs in os.walk(src) for f in fs]
    copied = []
    for rel in candidates:
        if fnmatch.fnmatch(rel, pattern):
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))
            copied.append(rel)
    return copied


def basic_layout(conanfile, src_folder="."):
    calls.append(("basic_layout", src_folder))


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


_module("conan", ConanFile=ConanFile)
_module("conan.tools")
_module("conan.tools.build", check_min_cppstd=check_min_cppstd)
_module("conan.tools.files", copy=copy, load=load)
_module("conan.tools.layout", basic_layout=basic_layout)

# --- load the recipe and run it ----------------------------------------------
spec = importlib.util.spec_from_file_location("latent_conanfile", os.path.join(source_dir, "conanfile.py"))
recipe_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe_module)
recipes = [c for c in vars(recipe_module).values()
           if isinstance(c, type) and issubclass(c, ConanFile) and c is not ConanFile]
if len(recipes) != 1:
    fail(f"expected one ConanFile class, found {len(recipes)}")
recipe = recipes[0]()
recipe.recipe_folder = source_dir

for attr, want in (("name", "latent"), ("package_type", "header-library"), ("no_copy_source", True),
                   ("license", "MIT")):
    if getattr(recipe, attr, None) != want:
        fail(f"expected {attr} = {want!r}, found {getattr(recipe, attr, None)!r}")
for pattern in ("include/*", "LICENSE"):
    if pattern not in recipe.exports_sources:
        fail(f"exports_sources should contain {pattern!r}: {recipe.exports_sources!r}")

recipe.set_version()
if recipe.version != expected_version:
    fail(f"set_version() gave {recipe.version!r}, include/latent/version.hpp says {expected_version!r}")
recipe.layout()
recipe.requirements()
if ("requires", "eigen/3.4.0", {"transitive_headers": True}) not in calls:
    fail(f"expected requires('eigen/3.4.0', transitive_headers=True), calls were {calls}")
recipe.validate()
if ("check_min_cppstd", 17) not in calls:
    fail("validate() should call check_min_cppstd(self, 17)")
recipe.package_id()
if "info.clear" not in calls:
    fail("package_id() should clear self.info (header-only)")

package_folder = os.path.join(work_dir, "package")
shutil.rmtree(work_dir, ignore_errors=True)
recipe.source_folder = source_dir
recipe.build_folder = os.path.join(work_dir, "build")
recipe.package_folder = package_folder
recipe.build()
recipe.package()
recipe.package_info()

for rel in ("licenses/LICENSE", "include/latent/latent.hpp", "include/latent/version.hpp"):
    if not os.path.isfile(os.path.join(package_folder, rel)):
        fail(f"package() did not produce {rel}")
src_headers = set(os.path.relpath(os.path.join(r, f), os.path.join(source_dir, "include"))
                  for r, _, fs in os.walk(os.path.join(source_dir, "include")) for f in fs)
pkg_headers = set(os.path.relpath(os.path.join(r, f), os.path.join(package_folder, "include"))
                  for r, _, fs in os.walk(os.path.join(package_folder, "include")) for f in fs)
if src_headers != pkg_headers:
    fail(f"packaged headers differ from include/: missing {sorted(src_headers - pkg_headers)}, "
         f"extra {sorted(pkg_headers - src_headers)}")

if recipe.cpp_info.defines:
    fail(f"the default package should define nothing, found {recipe.cpp_info.defines}")

# --- option with_blas: a BLAS as a candidate GEMM engine ---------------------
with_blas = recipes[0]()
with_blas.recipe_folder = source_dir
if getattr(with_blas.options, "with_blas", None) is not False:
    fail("expected an option with_blas defaulting to False")
with_blas.options.with_blas = True
calls.clear()
with_blas.requirements()
if not any(c[0] == "requires" and c[1].startswith("openblas/") for c in calls):
    fail(f"with_blas=True should require openblas, calls were {calls}")
if ("requires", "eigen/3.4.0", {"transitive_headers": True}) not in calls:
    fail("with_blas=True should still require eigen")
with_blas.package_info()
if "LATENT_HAS_CBLAS=1" not in with_blas.cpp_info.defines:
    fail(f"with_blas=True should define LATENT_HAS_CBLAS=1 for consumers, found {with_blas.cpp_info.defines}")

props = recipe.cpp_info.properties
want = {"cmake_file_name": "latent", "cmake_target_name": "latent::latent", "pkg_config_name": "latent"}
for k, v in want.items():
    if props.get(k) != v:
        fail(f"cpp_info property {k}: expected {v!r}, found {props.get(k)!r}")
if recipe.cpp_info.bindirs or recipe.cpp_info.libdirs:
    fail("a header-only package should have empty bindirs and libdirs")

# --- what CMakeDeps would write for this package_info() ----------------------
generators = os.path.join(work_dir, "generators")
os.makedirs(generators, exist_ok=True)
target = props["cmake_target_name"]
include_dirs = " ".join('"%s"' % os.path.join(package_folder, d).replace("\\", "/")
                        for d in recipe.cpp_info.includedirs)
with open(os.path.join(generators, props["cmake_file_name"] + "-config.cmake"), "w", encoding="utf-8") as f:
    f.write(f"""# Stand-in for the file Conan's CMakeDeps generates from package_info().
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 CONFIG)  # CMakeDeps would write Eigen3-config.cmake for eigen/3.4.0
if(NOT TARGET {target})
  add_library({target} INTERFACE IMPORTED)
  set_target_properties({target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES {include_dirs}
    INTERFACE_LINK_LIBRARIES Eigen3::Eigen)
endif()
""")
print(f"conan recipe check: latent/{recipe.version} packaged into {package_folder}; "
      f"CMakeDeps stand-in in {generators}")
