// The whole public API of asyncredis.
#pragma once

#include "asyncredis/cache/cache.hpp"
#include "asyncredis/client.hpp"
#include "asyncredis/command.hpp"
#include "asyncredis/command_metrics.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/keyspace.hpp"
#include "asyncredis/observer.hpp"
#include "asyncredis/ratelimit/ratelimit.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"
#include "asyncredis/script.hpp"
#include "asyncredis/session/session_repository.hpp"
#include "asyncredis/settings.hpp"
#include "asyncredis/subscriber.hpp"
#include "asyncredis/tracking.hpp"
