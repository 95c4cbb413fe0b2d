// The caching layer: CacheService, cached() and KeyBuilder.
#pragma once

#include "asyncredis/cache/cache_options.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/cache/cached.hpp"
#include "asyncredis/cache/key_builder.hpp"
