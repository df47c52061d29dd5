/*
 * The client's parsers of the server's replies (social.c, report.c) and
 * the refusal sentences (refusals.c). The first byte picks the parser, the
 * rest is the JSON the server would send. What a parser accepts must obey
 * the API's rules (valid usernames, positive ids, known enumerations), and
 * a sentence is always terminated within its buffer.
 */
#include <jansson.h>
#include <string.h>

#include "client_internal.h"
#include "fuzz_common.h"
#include "ward/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    FUZZ_ASSERT(ward_crypto_init() == WARD_OK);
    fuzz_write_tagged_seed("user", 0,
                           "{\"username\":\"bob\",\"id\":5,"
                           "\"you_follow\":true,\"follows_you\":false}");
    fuzz_write_tagged_seed("account", 1,
                           "{\"id\":3,\"username\":\"kid\","
                           "\"age_band\":\"minor\",\"private\":true,"
                           "\"status\":\"active\",\"created_at\":17}");
    fuzz_write_tagged_seed("names", 2, "[\"alice\",\"bob\",\"carol-1\"]");
    fuzz_write_tagged_seed(
        "suggestions", 3,
        "{\"suggestions\":[{\"username\":\"dave\",\"shared\":3}]}");
    fuzz_write_tagged_seed("report-message", 4,
                           "{\"id\":9,\"verified\":true,"
                           "\"priority\":\"high\","
                           "\"attachment\":\"verified\"}");
    fuzz_write_tagged_seed("report-account", 5,
                           "{\"id\":9,\"priority\":\"normal\"}");
    fuzz_write_tagged_seed("refusal", 6,
                           "{\"error\":{\"code\":\"account_suspended\","
                           "\"message\":\"x\",\"until\":1798761600000}}");
    fuzz_write_tagged_seed(
        "refusal-unknown", 6,
        "{\"error\":{\"code\":\"teapot\",\"message\":\"I am a teapot\"}}");
    return 0;
}

static int on_name(void *ctx, const char *user)
{
    (void)ctx;
    FUZZ_ASSERT(ward_client_username_valid(user));
    return 0;
}

static int on_suggestion(void *ctx, const char *user, int64_t shared)
{
    (void)ctx;
    FUZZ_ASSERT(ward_client_username_valid(user) && shared >= 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 1)
        return 0;
    json_t *v = json_loadb((const char *)p + 1, n - 1, JSON_DECODE_ANY, NULL);
    if (!v)
        return 0;
    ward_client_user u;
    ward_client_account a;
    ward_client_report_result r;
    char out[128];
    switch (p[0] % 7) {
    case 0:
        if (ward_client_parse_user(v, &u) == WARD_OK)
            FUZZ_ASSERT(ward_client_username_valid(u.username) && u.id > 0);
        break;
    case 1:
        if (ward_client_parse_account(v, &a) == WARD_OK)
            FUZZ_ASSERT(ward_client_username_valid(a.username) && a.id > 0 &&
                        memchr(a.status, 0, sizeof a.status));
        break;
    case 2:
        (void)ward_client_parse_names(v, on_name, NULL);
        break;
    case 3:
        (void)ward_client_parse_suggestions(v, on_suggestion, NULL);
        break;
    case 4:
    case 5:
        if (ward_client_parse_report_result(v, p[0] % 7 == 4, &r) ==
            WARD_OK)
            FUZZ_ASSERT(r.id > 0 && memchr(r.attachment, 0,
                                           sizeof r.attachment));
        break;
    default:
        /* A sentence about a name of any length, in a small buffer. */
        memset(out, 'x', sizeof out);
        ward_client_server_error_about(v, 403, "somebody-with-a-long-name",
                                       out, 64);
        FUZZ_ASSERT(memchr(out, 0, 64) != NULL);
        break;
    }
    json_decref(v);
    return 0;
}
