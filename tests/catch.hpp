// Catch2 v3 when found, v2 accepted: tests include this, never Catch2 directly.
#pragma once
#if defined(LATENT_CATCH2_V3)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
