/*
 * ios.c - the "ios" profile: iOS (and tvOS, watchOS), XNU built as an
 * embedded target.
 *
 * The rules are macOS's (macos.c's table, xnu_common.c), except:
 *  1. No privileged ports at all: the check is compiled only for
 *     XNU_TARGET_OS_OSX (earlier !CONFIG_EMBEDDED), since xnu-6153
 *     [S in_pcbbind() at xnu-6153 and HEAD].
 *  2. More restricted ports: TCP 55555, TCP and UDP 62742, UDP 62743
 *     [S restricted_in_port.c]; 61314/61315 are listed for embedded builds
 *     too, modelled here for TCP and UDP [U: the protocol was not read].
 * Sources: ../shared/reference/more-profiles.md §1.1.  The sysctl keys are
 * macOS's; the xnu.privileged_wildcard switch has no effect here.
 */
#include "xnu_common.h"

static const sm__xnu_restricted ios_restricted[] = {
    {55555, true, false},
    {61314, true, true},
    {61315, true, true},
    {62742, true, true},
    {62743, false, true},
};

static const sm__xnu_target ios = {
    .privileged_ports = false,
    .restricted = ios_restricted,
    .n_restricted = sizeof ios_restricted / sizeof ios_restricted[0],
};

extern const sm_rule_set sm__rules_xnu_common;
const sm_profile sm_profile_ios = {
    .version = SM_PROFILE_VERSION,
    .name = "ios",
    .summary = "iOS (XNU, embedded): macOS's rules without privileged ports",
    .sysctls = sm__xnu_sysctls,
    .n_sysctls = 6, /* without the macOS-only xnu.privileged_wildcard */
    .defaults = SM__XNU_DEFAULTS(0),
    .native_err_name = NULL,
    .data = &ios, /* the XNU target: privileged and restricted ports */
    .setsockopt = sm__xnu_setsockopt,
    .bind = sm__xnu_bind,
    .listen = sm__xnu_listen,
    .pick_port = sm__xnu_pick_port,
    .tcp = &sm__xnu_tcp_rules,
    .connect = sm__xnu_connect,
    .pick_connect_port = sm__xnu_pick_connect,
    .tw_syn = sm__xnu_tw_syn,
    .select_listener = sm__xnu_select_listener,
    .select_listener_rule = &sm__xnu_select_listener_rule,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_xnu_common, NULL},
};
