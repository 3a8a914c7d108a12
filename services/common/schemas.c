/* SPDX-License-Identifier: MIT */
/* schemas.c — the four ticketing event schemas (see common/ticketing.h). */
#include "common/ticketing.h"

#include <stdint.h>

#define ID_FIELD(n, req)                                                      \
    { .name = (n), .type = LK_FIELD_OBJECTID, .required = (req) }
#define VERSION_FIELD                                                         \
    { .name = "version", .type = LK_FIELD_INTEGER, .required = true,         \
      .has_range = true, .min = 0, .max = INT64_MAX }
#define PRICE_FIELD                                                           \
    { .name = "price", .type = LK_FIELD_NUMBER, .required = true,            \
      .has_range = true, .min = 0, .max = TICKETING_PRICE_MAX }
#define TITLE_FIELD                                                           \
    { .name = "title", .type = LK_FIELD_STRING, .required = true,            \
      .max_length = TICKETING_TITLE_MAX }
#define USER_ID_FIELD                                                         \
    { .name = "userId", .type = LK_FIELD_STRING, .required = true,           \
      .max_length = TICKETING_USER_ID_MAX }

/* Payloads are small: refuse anything beyond a few KiB before parsing. */
#define TICKETING_MAX_PAYLOAD 4096

static const lk_field ticket_created_fields[] = {
    ID_FIELD("id", true), VERSION_FIELD, TITLE_FIELD, PRICE_FIELD,
    USER_ID_FIELD,        LK_FIELD_END};

static const lk_field ticket_updated_fields[] = {
    ID_FIELD("id", true), VERSION_FIELD, TITLE_FIELD, PRICE_FIELD,
    USER_ID_FIELD,        ID_FIELD("orderId", false), LK_FIELD_END};

static const lk_field order_created_ticket_fields[] = {
    ID_FIELD("id", true), PRICE_FIELD, LK_FIELD_END};

/* The course's four order statuses: any other is a bad event. */
static const char *const order_statuses[] = {
    TICKETING_ORDER_STATUS_CREATED, TICKETING_ORDER_STATUS_CANCELLED,
    TICKETING_ORDER_STATUS_AWAITING_PAYMENT, TICKETING_ORDER_STATUS_COMPLETE,
    NULL};

static const lk_field order_created_fields[] = {
    ID_FIELD("id", true),
    VERSION_FIELD,
    {.name = "status", .type = LK_FIELD_STRING, .required = true,
     .max_length = TICKETING_STATUS_MAX, .one_of = order_statuses},
    USER_ID_FIELD,
    {.name = "expiresAt", .type = LK_FIELD_STRING, .required = true,
     .max_length = TICKETING_EXPIRES_AT_MAX},
    {.name = "ticket", .type = LK_FIELD_OBJECT, .required = true,
     .fields = order_created_ticket_fields, .strict = true},
    LK_FIELD_END};

static const lk_field order_cancelled_ticket_fields[] = {ID_FIELD("id", true),
                                                         LK_FIELD_END};

static const lk_field order_cancelled_fields[] = {
    ID_FIELD("id", true),
    VERSION_FIELD,
    {.name = "ticket", .type = LK_FIELD_OBJECT, .required = true,
     .fields = order_cancelled_ticket_fields, .strict = true},
    LK_FIELD_END};

const lk_schema ticketing_ticket_created = {
    .subject = TICKETING_SUBJECT_TICKET_CREATED,
    .fields = ticket_created_fields,
    .strict = true,
    .max_payload = TICKETING_MAX_PAYLOAD};

const lk_schema ticketing_ticket_updated = {
    .subject = TICKETING_SUBJECT_TICKET_UPDATED,
    .fields = ticket_updated_fields,
    .strict = true,
    .max_payload = TICKETING_MAX_PAYLOAD};

const lk_schema ticketing_order_created = {
    .subject = TICKETING_SUBJECT_ORDER_CREATED,
    .fields = order_created_fields,
    .strict = true,
    .max_payload = TICKETING_MAX_PAYLOAD};

const lk_schema ticketing_order_cancelled = {
    .subject = TICKETING_SUBJECT_ORDER_CANCELLED,
    .fields = order_cancelled_fields,
    .strict = true,
    .max_payload = TICKETING_MAX_PAYLOAD};
