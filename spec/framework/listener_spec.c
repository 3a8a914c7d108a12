/* SPDX-License-Identifier: MIT */
/* listener_spec.c — what every service listener relies on: init checks the
 * def, listen() subscribes the way JetStream listeners must (durable queue
 * group, manual ack, deliver all), and dispatch hands only valid events to
 * on_message, terms bad data exactly once with a logged reason, and naks a
 * failed message for redelivery (the rest of the retry policy:
 * listener_retry_spec.c).
 *
 * A spec-local message and bus (a few lines each) record replies and
 * subscriptions; the full doubles live in mocks/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "spec_log.h"

/* ---- spec-local message ------------------------------------------------------- */

typedef struct rec_msg {
    lk_msg base;
    int acks, naks, terms, in_progress;
    int64_t nak_delay; /* the last nak's */
} rec_msg;

static lk_status rec_ack(lk_msg *m) { ((rec_msg *)m)->acks++; return LK_OK; }
static lk_status rec_nak(lk_msg *m, int64_t d)
{
    ((rec_msg *)m)->nak_delay = d;
    ((rec_msg *)m)->naks++;
    return LK_OK;
}
static lk_status rec_term(lk_msg *m) { ((rec_msg *)m)->terms++; return LK_OK; }
static lk_status rec_wip(lk_msg *m)
{
    ((rec_msg *)m)->in_progress++;
    return LK_OK;
}
static const lk_msg_ops rec_msg_ops = {rec_ack, rec_nak, rec_term, rec_wip,
                                       NULL};

/* A message whose term fails (the connection dropped meanwhile). */
static lk_status failing_term(lk_msg *m)
{
    ((rec_msg *)m)->terms++;
    return LK_ERR_CLOSED;
}
static const lk_msg_ops failing_term_ops = {rec_ack, rec_nak, failing_term,
                                            rec_wip, NULL};

static rec_msg make_msg(const char *subject, const char *json, uint64_t seq,
                        uint64_t delivery)
{
    rec_msg m = {.base = {.ops = &rec_msg_ops,
                          .subject = subject,
                          .data = json,
                          .length = strlen(json),
                          .stream_seq = seq,
                          .delivery_count = delivery}};
    return m;
}

/* ---- spec-local bus: records one subscription ---------------------------------- */

typedef struct rec_bus {
    lk_bus base;
    int subscribes;
    const char *subject;
    lk_subscribe_opts opts;
    lk_msg_handler handler;
    void *closure;
    lk_status fail;
} rec_bus;

static lk_status bus_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    (void)bus, (void)subject, (void)data, (void)len, (void)opts;
    return lk_error_set(err, LK_ERR_UNSUPPORTED, "not in this spec");
}

static lk_status bus_subscribe(lk_bus *bus, const char *subject,
                               const lk_subscribe_opts *opts,
                               lk_msg_handler handler, void *closure,
                               lk_error *err)
{
    rec_bus *b = (rec_bus *)bus;
    if (b->fail != LK_OK)
        return lk_error_set(err, b->fail, "subscribe %s: refused", subject);
    b->subscribes++;
    b->subject = subject;
    b->opts = *opts;
    b->handler = handler;
    b->closure = closure;
    return LK_OK;
}

static lk_status bus_drain(lk_bus *bus, lk_error *err)
{
    (void)bus, (void)err;
    return LK_OK;
}
static void bus_free(lk_bus *bus) { (void)bus; }
static const lk_bus_ops rec_bus_ops = {"rec", bus_publish, bus_subscribe,
                                       bus_drain, bus_free, NULL};

/* ---- the listener under test ----------------------------------------------------- */

static const lk_field created_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true,
     .has_range = true, .min = 0, .max = INT64_MAX},
    LK_FIELD_END};
static const lk_schema ticket_created = {.subject = "ticket:created",
                                         .fields = created_fields};

/* What on_message saw, and what it should do. */
typedef struct probe {
    int calls;
    char id[64];
    int64_t version;
    lk_listener *listener;
    uint64_t seq; /* of the message on_message got */
    lk_status result;
    bool ack;
} probe;

static lk_status on_created(lk_listener *l, const json_t *data, lk_msg *msg)
{
    probe *p = l->ctx;
    p->calls++;
    snprintf(p->id, sizeof p->id, "%s", lk_event_string(data, "id"));
    p->version = lk_event_int(data, "version");
    p->listener = l;
    p->seq = msg->stream_seq;
    if (p->ack)
        lk_msg_ack(msg);
    return p->result;
}

static const lk_listener_def created_def = {.schema = &ticket_created,
                                            .queue_group = "orders-service",
                                            .on_message = on_created};

static int capture(void **state)
{
    (void)state;
    spec_log_capture_start();
    return 0;
}

static int uncapture(void **state)
{
    (void)state;
    spec_log_capture_stop();
    return 0;
}

static void assert_message_has(const lk_error *err, const char *needle)
{
    if (strstr(err->message, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err->message,
                 needle);
}

static void assert_logged(const char *needle)
{
    if (!spec_log_contains(needle))
        fail_msg("log \"%s\" does not contain \"%s\"", spec_log_captured(),
                 needle);
}

/* ---- init ---------------------------------------------------------------------- */

static void test_init_fills_the_listener(void **state)
{
    (void)state;
    rec_bus bus = {.base.ops = &rec_bus_ops};
    probe p = {0};
    lk_listener l;
    assert_int_equal(lk_listener_init(&l, &created_def, &bus.base, &p, NULL),
                     LK_OK);
    assert_ptr_equal(l.def, &created_def);
    assert_ptr_equal(l.client, &bus.base);
    assert_ptr_equal(l.ctx, &p);
}

static void test_init_allows_no_client_for_hand_dispatch(void **state)
{
    (void)state;
    lk_listener l;
    assert_int_equal(lk_listener_init(&l, &created_def, NULL, NULL, NULL),
                     LK_OK);
    assert_null(l.client);
}

static void refuse_def(const lk_listener_def *def, const char *needle)
{
    lk_listener l;
    lk_error err;
    lk_error_clear(&err);
    assert_int_equal(lk_listener_init(&l, def, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_int_equal(err.status, LK_ERR_INVALID);
    assert_message_has(&err, needle);
    assert_null(l.def); /* a refused listener cannot be listened with */
}

static void test_init_refuses_incomplete_defs(void **state)
{
    (void)state;
    static const lk_schema bad_subject = {.subject = "ticket created",
                                          .fields = created_fields};
    lk_listener_def d;

    refuse_def(NULL, "def is NULL");
    d = created_def, d.schema = NULL;
    refuse_def(&d, "schema is NULL");
    d = created_def, d.schema = &bad_subject;
    refuse_def(&d, "invalid subject \"ticket created\"");
    d = created_def, d.queue_group = NULL;
    refuse_def(&d, "listener ticket:created: queue group is required");
    d = created_def, d.queue_group = "";
    refuse_def(&d, "queue group is required");
    d = created_def, d.queue_group = "orders service";
    refuse_def(&d, "invalid queue group \"orders service\"");
    d = created_def, d.on_message = NULL;
    refuse_def(&d, "listener ticket:created: on_message is NULL");
    d = created_def, d.ack_wait_ms = -5;
    refuse_def(&d, "ack_wait_ms must be >= 0, got -5");
    d = created_def, d.max_deliver = -1;
    refuse_def(&d, "max_deliver must be >= 0, got -1");
    d = created_def, d.max_ack_pending = -3;
    refuse_def(&d, "max_ack_pending must be >= 0, got -3");
}

static void test_init_refuses_queue_group_unfit_as_durable_name(void **state)
{
    (void)state;
    lk_listener_def d = created_def;
    d.queue_group = "orders.service";
    refuse_def(&d, "invalid queue group \"orders.service\" for JetStream");
    /* a durable name does not help: libnats checks the queue group too */
    d.durable_name = "orders-durable";
    refuse_def(&d, "invalid queue group \"orders.service\" for JetStream");
    d.queue_group = "orders-service";
    lk_listener l;
    assert_int_equal(lk_listener_init(&l, &d, NULL, NULL, NULL), LK_OK);
    d.durable_name = "bad name";
    refuse_def(&d, "invalid durable name \"bad name\"");
    d.durable_name = "";
    refuse_def(&d, "invalid durable name \"\"");
}

static void test_init_refuses_null_listener(void **state)
{
    (void)state;
    lk_error err;
    assert_int_equal(lk_listener_init(NULL, &created_def, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "listener is NULL");
}

/* ---- subscribe options and listen ------------------------------------------------------ */

static void test_subscribe_opts_default_to_durable_queue_deliver_all(void **state)
{
    (void)state;
    lk_subscribe_opts o = lk_listener_subscribe_opts(&created_def);
    assert_string_equal(o.queue_group, "orders-service");
    assert_string_equal(o.durable_name, "orders-service");
    assert_int_equal(o.ack_wait_ms, LK_DEFAULT_ACK_WAIT_MS);
    assert_int_equal(o.ack_wait_ms, 5000);
    /* bounded by default, with room for the dead letter (retry.h) */
    assert_int_equal(o.max_deliver, LK_RETRY_DEFAULT_MAX_DELIVER +
                                        LK_RETRY_SPARE_DELIVERIES);
    assert_int_equal(o.max_deliver, 8);
    assert_true(o.deliver_all);
}

static void test_subscribe_opts_without_a_def_are_the_defaults(void **state)
{
    (void)state;
    lk_subscribe_opts o = lk_listener_subscribe_opts(NULL);
    assert_null(o.queue_group);
    assert_null(o.durable_name);
    assert_int_equal(o.ack_wait_ms, LK_DEFAULT_ACK_WAIT_MS);
    assert_int_equal(o.max_deliver, 0);
    assert_true(o.deliver_all);
}

static void test_subscribe_opts_take_the_defs_settings(void **state)
{
    (void)state;
    lk_listener_def d = created_def;
    d.ack_wait_ms = 250;
    d.max_deliver = 3;
    d.max_ack_pending = 16;
    d.durable_name = "orders-ticket-created";
    lk_subscribe_opts o = lk_listener_subscribe_opts(&d);
    assert_string_equal(o.durable_name, "orders-ticket-created");
    assert_int_equal(o.ack_wait_ms, 250);
    assert_int_equal(o.max_deliver, 3 + LK_RETRY_SPARE_DELIVERIES);
    assert_int_equal(o.max_ack_pending, 16);
    assert_true(o.deliver_all);
}

static void test_listen_subscribes_on_schema_subject_and_dispatches(void **state)
{
    (void)state;
    rec_bus bus = {.base.ops = &rec_bus_ops};
    probe p = {.result = LK_OK, .ack = true};
    lk_listener l;
    lk_error err;
    assert_int_equal(lk_listener_init(&l, &created_def, &bus.base, &p, &err),
                     LK_OK);
    assert_int_equal(lk_listener_listen(&l, &err), LK_OK);
    assert_int_equal(bus.subscribes, 1);
    assert_string_equal(bus.subject, "ticket:created");
    assert_string_equal(bus.opts.queue_group, "orders-service");
    assert_string_equal(bus.opts.durable_name, "orders-service");
    assert_int_equal(bus.opts.ack_wait_ms, 5000);
    assert_true(bus.opts.deliver_all);

    /* The bus delivers through the handler it was given. */
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t1\",\"version\":0}",
                         1, 1);
    bus.handler(&m.base, bus.closure);
    assert_int_equal(p.calls, 1);
    assert_string_equal(p.id, "t1");
    assert_ptr_equal(p.listener, &l);
    assert_int_equal(m.acks, 1);
}

static void test_listen_refuses_without_client_or_init(void **state)
{
    (void)state;
    lk_listener l;
    lk_error err;
    assert_int_equal(lk_listener_init(&l, &created_def, NULL, NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_listen(&l, &err), LK_ERR_INVALID);
    assert_message_has(&err, "listener ticket:created: no client");
    assert_int_equal(lk_listener_listen(NULL, &err), LK_ERR_INVALID);
    assert_message_has(&err, "not initialised");
}

static void test_listen_reports_bus_refusal_with_queue_group(void **state)
{
    (void)state;
    rec_bus bus = {.base.ops = &rec_bus_ops, .fail = LK_ERR_CLOSED};
    lk_listener l;
    lk_error err;
    assert_int_equal(lk_listener_init(&l, &created_def, &bus.base, NULL, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_listen(&l, &err), LK_ERR_CLOSED);
    assert_message_has(&err,
                       "listener orders-service: subscribe ticket:created");
}

/* ---- dispatch ------------------------------------------------------------------------ */

static void test_dispatch_hands_valid_event_to_on_message(void **state)
{
    (void)state;
    probe p = {.result = LK_OK, .ack = true};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t9\",\"version\":4}",
                         12, 1);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_OK);
    assert_int_equal(p.calls, 1);
    assert_string_equal(p.id, "t9");
    assert_int_equal(p.version, 4);
    assert_int_equal(p.seq, 12);
    assert_int_equal(m.acks, 1);
    assert_int_equal(m.terms + m.naks, 0);
    assert_int_equal(spec_log_line_count(), 0);
}

static void test_dispatch_leaves_replies_to_on_message(void **state)
{
    (void)state;
    probe p = {.result = LK_OK, .ack = false};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\",\"version\":0}", 1,
                         1);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_OK);
    assert_int_equal(m.acks + m.naks + m.terms + m.in_progress, 0);
}

static void test_dispatch_terms_invalid_json_once_and_logs_why(void **state)
{
    (void)state;
    probe p = {.result = LK_OK, .ack = true};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\": ", 7, 2);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_INVALID);
    assert_int_equal(p.calls, 0);
    assert_int_equal(m.terms, 1);
    assert_int_equal(m.acks, 0);
    assert_int_equal(m.naks, 0);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("ticket:created");
    assert_logged("seq 7");
    assert_logged("delivery 2");
    assert_logged("invalid JSON at line 1");
}

static void test_dispatch_terms_event_missing_a_field(void **state)
{
    (void)state;
    probe p = {.result = LK_OK, .ack = true};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\"}", 31, 1);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_INVALID);
    assert_int_equal(p.calls, 0);
    assert_int_equal(m.terms, 1);
    assert_int_equal(m.acks, 0);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("listener orders-service: terminated ticket:created seq 31 "
                  "(delivery 1): field \"version\": required integer is "
                  "missing");
}

static void test_dispatch_terms_oversized_payload(void **state)
{
    (void)state;
    static const lk_schema small = {.subject = "ticket:created",
                                    .fields = created_fields,
                                    .max_payload = 8};
    lk_listener_def d = created_def;
    d.schema = &small;
    probe p = {0};
    lk_listener l;
    lk_listener_init(&l, &d, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\",\"version\":0}", 3,
                         1);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_TOO_LARGE);
    assert_int_equal(m.terms, 1);
    assert_int_equal(p.calls, 0);
    assert_logged("exceeds the limit of 8 bytes");
}

static void test_dispatch_terms_message_on_another_subject(void **state)
{
    (void)state;
    probe p = {0};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:updated", "{\"id\":\"t\",\"version\":1}", 5,
                         1);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_INVALID);
    assert_int_equal(p.calls, 0);
    assert_int_equal(m.terms, 1);
    assert_logged("listener orders-service: terminated ticket:updated seq 5");
    assert_logged("unknown subject (this listener handles ticket:created)");
}

static void test_dispatch_reports_a_failed_term_in_the_same_line(void **state)
{
    (void)state;
    probe p = {0};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "not json", 4, 1);
    m.base.ops = &failing_term_ops;
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_INVALID);
    assert_int_equal(m.terms, 1);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("listener orders-service: terminated ticket:created "
                  "seq 4 (delivery 1): invalid JSON");
    assert_logged("; term failed: closed");
}

static void test_dispatch_naks_a_failed_message_with_a_growing_delay_and_logs(
    void **state)
{
    (void)state;
    probe p = {.result = LK_ERR_IO};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\",\"version\":1}", 9,
                         3);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_IO);
    assert_int_equal(p.calls, 1);
    assert_int_equal(m.naks, 1);
    assert_int_equal(m.nak_delay, 4000); /* 1 s, 2 s, then 4 s */
    assert_int_equal(m.acks + m.terms, 0);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("ticket:created seq 9 (delivery 3 of 6) not processed");
    assert_logged("ERR_IO");
    assert_logged("redelivery in 4000 ms");
}

static void test_dispatch_logs_retry_at_debug_only(void **state)
{
    (void)state;
    probe p = {.result = LK_ERR_RETRY};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\",\"version\":1}", 2,
                         1);

    lk_log_set_level(LK_LOG_WARN);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_RETRY);
    assert_int_equal(spec_log_line_count(), 0);

    lk_log_set_level(LK_LOG_DEBUG);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_RETRY);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("ERR_RETRY");
    assert_int_equal(m.naks, 2);
    assert_int_equal(m.nak_delay, LK_RETRY_DEFAULT_DELAY_MS);
    assert_int_equal(m.acks + m.terms, 0);
}

static void test_dispatch_warns_for_other_errors_at_warn_level(void **state)
{
    (void)state;
    probe p = {.result = LK_ERR_VERSION};
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, &p, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t\",\"version\":1}", 2,
                         1);
    lk_log_set_level(LK_LOG_WARN);
    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_ERR_VERSION);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged("ERR_VERSION");
}

static void test_dispatch_survives_null_arguments(void **state)
{
    (void)state;
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{}", 1, 1);
    assert_int_equal(lk_listener_dispatch(&l, NULL), LK_ERR_INVALID);
    assert_int_equal(lk_listener_dispatch(NULL, &m.base), LK_ERR_INVALID);
    assert_int_equal(m.terms + m.acks, 0);
    assert_logged("dispatch: message is NULL");
    assert_logged("dispatch: listener is NULL");
}

/* ---- term ---------------------------------------------------------------------------- */

/* Terms `m` on `l` for a bad id, as a listener would. */
static lk_status term_for_bad_id(lk_listener *l, rec_msg *m)
{
    lk_error e;
    lk_error_set(&e, LK_ERR_INVALID, "field \"id\": bad");
    return lk_listener_term(l, &m->base, &e);
}

/* Termed exactly once, no other reply, and one log line holding `line`. */
static void assert_termed_once(const rec_msg *m, const char *line)
{
    assert_int_equal(m->terms, 1);
    assert_int_equal(m->acks + m->naks + m->in_progress, 0);
    assert_int_equal(spec_log_line_count(), 1);
    assert_logged(line);
}

static void test_term_terms_once_never_acks_and_logs_every_part(void **state)
{
    (void)state;
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{}", 7, 3);
    assert_int_equal(term_for_bad_id(&l, &m), LK_OK);
    assert_termed_once(&m, "listener orders-service: terminated "
                           "ticket:created seq 7 (delivery 3): field \"id\": "
                           "bad");
}

static void test_term_returns_and_logs_a_failing_terms_status(void **state)
{
    (void)state;
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{}", 8, 1);
    m.base.ops = &failing_term_ops;
    assert_int_equal(term_for_bad_id(&l, &m), LK_ERR_CLOSED);
    assert_termed_once(&m, "listener orders-service: terminated "
                           "ticket:created seq 8 (delivery 1): field \"id\": "
                           "bad; term failed: closed");
}

static void test_term_without_a_reason_says_the_event_is_invalid(void **state)
{
    (void)state;
    lk_listener l;
    lk_error empty;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{}", 2, 1);
    lk_error_clear(&empty);

    assert_int_equal(lk_listener_term(&l, &m.base, NULL), LK_OK);
    assert_int_equal(lk_listener_term(&l, &m.base, &empty), LK_OK);

    assert_int_equal(m.terms, 2);
    assert_int_equal(m.acks, 0);
    assert_int_equal(spec_log_line_count(), 2);
    assert_logged("listener orders-service: terminated ticket:created seq 2 "
                  "(delivery 1): invalid event");
}

static void test_term_does_not_repeat_the_subject_of_a_decode_error(
    void **state)
{
    (void)state;
    lk_listener l;
    lk_error e;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{}", 4, 1);
    lk_error_set(&e, LK_ERR_INVALID, "ticket:created: field \"id\": bad");

    assert_int_equal(lk_listener_term(&l, &m.base, &e), LK_OK);

    assert_logged("terminated ticket:created seq 4 (delivery 1): "
                  "field \"id\": bad");
    assert_null(strstr(spec_log_captured(), "): ticket:created:"));
}

static void test_term_without_a_listener_leaves_the_group_out(void **state)
{
    (void)state;
    rec_msg m = make_msg("ticket:created", "{}", 6, 1);
    assert_int_equal(term_for_bad_id(NULL, &m), LK_OK);
    assert_termed_once(&m, "terminated ticket:created seq 6 (delivery 1): "
                           "field \"id\": bad");
    assert_null(strstr(spec_log_captured(), "listener"));
}

static void test_term_refuses_a_null_message(void **state)
{
    (void)state;
    lk_listener l;
    lk_listener_init(&l, &created_def, NULL, NULL, NULL);
    assert_int_equal(lk_listener_term(&l, NULL, NULL), LK_ERR_INVALID);
    assert_logged("listener term: message is NULL");
}

/* An on_message that can never process its event ends with the term. */
static lk_status on_created_terms(lk_listener *l, const json_t *data,
                                  lk_msg *msg)
{
    lk_error e;
    lk_error_set(&e, LK_ERR_INVALID, "field \"id\": \"%s\" is no ObjectId",
                 lk_event_string(data, "id"));
    return lk_listener_term(l, msg, &e);
}

static void test_on_message_ending_in_term_has_replied(void **state)
{
    (void)state;
    lk_listener_def d = created_def;
    d.on_message = on_created_terms;
    lk_listener l;
    lk_listener_init(&l, &d, NULL, NULL, NULL);
    rec_msg m = make_msg("ticket:created", "{\"id\":\"t1\",\"version\":0}",
                         11, 2);

    assert_int_equal(lk_listener_dispatch(&l, &m.base), LK_OK);
    /* one line: the term's, no "left un-acked" */
    assert_termed_once(&m, "listener orders-service: terminated "
                           "ticket:created seq 11 (delivery 2): field "
                           "\"id\": \"t1\" is no ObjectId");
}

#define T(name) cmocka_unit_test_setup_teardown(name, capture, uncapture)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_fills_the_listener),
        T(test_init_allows_no_client_for_hand_dispatch),
        T(test_init_refuses_incomplete_defs),
        T(test_init_refuses_queue_group_unfit_as_durable_name),
        T(test_init_refuses_null_listener),
        T(test_subscribe_opts_default_to_durable_queue_deliver_all),
        T(test_subscribe_opts_without_a_def_are_the_defaults),
        T(test_subscribe_opts_take_the_defs_settings),
        T(test_listen_subscribes_on_schema_subject_and_dispatches),
        T(test_listen_refuses_without_client_or_init),
        T(test_listen_reports_bus_refusal_with_queue_group),
        T(test_dispatch_hands_valid_event_to_on_message),
        T(test_dispatch_leaves_replies_to_on_message),
        T(test_dispatch_terms_invalid_json_once_and_logs_why),
        T(test_dispatch_terms_event_missing_a_field),
        T(test_dispatch_terms_oversized_payload),
        T(test_dispatch_terms_message_on_another_subject),
        T(test_dispatch_reports_a_failed_term_in_the_same_line),
        T(test_dispatch_naks_a_failed_message_with_a_growing_delay_and_logs),
        T(test_dispatch_logs_retry_at_debug_only),
        T(test_dispatch_warns_for_other_errors_at_warn_level),
        T(test_dispatch_survives_null_arguments),
        T(test_term_terms_once_never_acks_and_logs_every_part),
        T(test_term_returns_and_logs_a_failing_terms_status),
        T(test_term_without_a_reason_says_the_event_is_invalid),
        T(test_term_does_not_repeat_the_subject_of_a_decode_error),
        T(test_term_without_a_listener_leaves_the_group_out),
        T(test_term_refuses_a_null_message),
        T(test_on_message_ending_in_term_has_replied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
