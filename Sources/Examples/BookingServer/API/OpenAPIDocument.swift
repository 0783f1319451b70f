/// The OpenAPI 3.0 document of the HTTP API, served at `/api/openapi.json`.
///
/// `BookingServerTests` checks that every route the router serves is here and every path here is served.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "swift-booking",
            "version": "1.0.0",
            "description": "Appointment booking API. Instants are ISO 8601; responses use UTC with milliseconds."
          },
          "paths": {
            "/health": {
              "get": {
                "operationId": "health",
                "summary": "Liveness",
                "responses": {"200": {"description": "The process is up", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}
              }
            },
            "/health/ready": {
              "get": {
                "operationId": "ready",
                "summary": "Readiness: the store answers",
                "responses": {
                  "200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                  "503": {"description": "The store does not answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
                }
              }
            },
            "/api/availability": {
              "get": {
                "operationId": "availability",
                "summary": "Free slots, sorted, each with its seats left; the window is clamped to what the schedule offers now. Slots without a seat left (booked or held by others), slots overlapping a taken slot, and the slots of a local day or ISO week at the resource's booking limit are left out",
                "parameters": [
                  {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
                  {"name": "to", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
                  {"name": "resource", "in": "query", "required": false, "schema": {"$ref": "#/components/schemas/ResourceID"}}
                ],
                "responses": {
                  "200": {"description": "Free slots", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/schedule": {
              "get": {
                "operationId": "schedule",
                "summary": "The schedule's time zone and limits, for clients that show times",
                "parameters": [{"name": "resource", "in": "query", "required": false, "schema": {"$ref": "#/components/schemas/ResourceID"}}],
                "responses": {
                  "200": {"description": "The schedule", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Schedule"}}}},
                  "404": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/resources": {
              "get": {
                "operationId": "resources",
                "summary": "The configured resources, in the configured order, with their capacity and booking limits; any other resource is 404 on every route",
                "responses": {
                  "200": {"description": "The resources", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}}}}}
                }
              }
            },
            "/api/appointments": {
              "post": {
                "operationId": "book",
                "summary": "Book a slot (one seat of it, with capacity); the response carries the cancel token once. With holdToken, the booking uses that live hold of this very slot and ends it. 409: SLOT_UNAVAILABLE (no seat left, or an overlapping slot is booked), ALREADY_BOOKED (this email already has a seat in the slot), BOOKING_LIMIT_REACHED (the resource's day or week is booked up to its limit), SLOT_HELD (someone else holds it, or holds fill its day or week; Retry-After says when it frees), HOLD_EXPIRED (holdToken names no live hold)",
                "parameters": [
                  {"name": "Idempotency-Key", "in": "header", "required": false, "description": "A structured-field string (\"abc\") or a bare token (abc), 1-255 printable ASCII characters. A retry with the same key and body returns the original booking (201, Idempotent-Replayed: true); keys never expire", "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BookingRequest"}}}},
                "responses": {
                  "201": {"description": "Booked (or the original booking, for a retried Idempotency-Key)", "headers": {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Appointment"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              },
              "get": {
                "operationId": "listAppointments",
                "summary": "All appointments ordered by slot_start (admin)",
                "security": [{"admin": []}],
                "responses": {
                  "200": {"description": "Appointments", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Appointment"}}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/holds": {
              "post": {
                "operationId": "placeHold",
                "summary": "Hold an offered slot (one seat of it, with capacity) for a few minutes (--hold-minutes, default 5) while the customer types: until expires_at, availability leaves it out and a booking without the token is 409 SLOT_HELD. Book with holdToken, or DELETE the hold. The token is shown this once. 409: SLOT_UNAVAILABLE, BOOKING_LIMIT_REACHED, SLOT_HELD (with Retry-After)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HoldRequest"}}}},
                "responses": {
                  "201": {
                    "description": "Held", "headers": {"Cache-Control": {"description": "no-store", "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Hold"}}},
                    "links": {"ReleaseHold": {"operationId": "releaseHold", "parameters": {"token": "$response.body#/token"}}}
                  },
                  "400": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/holds/{token}": {
              "delete": {
                "operationId": "releaseHold",
                "summary": "Release a live hold: its seat is free again at once. The token is the hold's only credential (request logs show {token}). 404 when no live hold has that token (never placed, used by a booking, released, or expired)",
                "parameters": [
                  {"name": "token", "in": "path", "required": true, "description": "The hold's token, as POST /api/holds answered it", "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}}
                ],
                "responses": {
                  "204": {"description": "Released"},
                  "400": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/appointments/{id}": {
              "get": {
                "operationId": "readAppointment",
                "summary": "One appointment (admin, or its cancel token in X-Cancel-Token; never in the URL). A wrong token is 403, an unknown id 404",
                "security": [{"admin": []}, {"cancelToken": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/ID"},
                  {"name": "X-Cancel-Token", "in": "header", "required": false, "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "The appointment", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Appointment"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/appointments/{id}/calendar.ics": {
              "get": {
                "operationId": "appointmentCalendar",
                "summary": "The appointment as an iCalendar file (RFC 5545, RFC 5546) for the admin, or its cancel token in X-Cancel-Token (never in the URL): METHOD:REQUEST and STATUS:CONFIRMED while booked, METHOD:CANCEL and STATUS:CANCELLED once cancelled; UID appointment-<id>-<created, ms since 1970>@<calendar domain> for its whole life, SEQUENCE its sequence. A wrong token is 403, an unknown id 404",
                "security": [{"admin": []}, {"cancelToken": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/ID"},
                  {"name": "X-Cancel-Token", "in": "header", "required": false, "schema": {"type": "string"}}
                ],
                "responses": {
                  "200": {"description": "The calendar file; the content type names its method (text/calendar; charset=utf-8; method=REQUEST or method=CANCEL)", "content": {"text/calendar": {"schema": {"type": "string"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/resources/{id}/calendar.ics": {
              "get": {
                "operationId": "resourceCalendarFeed",
                "summary": "A resource's appointments as an iCalendar feed: those that started at most --calendar-feed-past-days (90) days ago and every later one (no METHOD; cancelled ones with STATUS:CANCELLED), for Authorization: Bearer with the calendar feed secret, the resource's feed key or the admin token (another resource's key is 403). 404 while no feed secret is configured",
                "security": [{"calendarFeed": []}, {"admin": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/ResourcePathID"},
                  {"$ref": "#/components/parameters/IfNoneMatch"}
                ],
                "responses": {
                  "200": {"$ref": "#/components/responses/CalendarFeed"},
                  "304": {"$ref": "#/components/responses/NotModified"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/resources/{id}/calendar/{secret}.ics": {
              "get": {
                "operationId": "resourceCalendarFeedBySecret",
                "summary": "The same feed for calendar applications, which cannot send headers: the calendar feed secret or the resource's feed key (GET /api/resources/{id}/calendar-feed) is a path segment (never a query string; request logs show {secret}). A wrong secret or key (another resource's key included), an unknown resource and a feed that is off all answer the same 404",
                "parameters": [
                  {"$ref": "#/components/parameters/ResourcePathID"},
                  {"name": "secret", "in": "path", "required": true, "description": "The calendar feed secret, or the resource's feed key", "schema": {"type": "string", "minLength": 16, "pattern": "^[A-Za-z0-9._~-]+$"}},
                  {"$ref": "#/components/parameters/IfNoneMatch"}
                ],
                "responses": {
                  "200": {"$ref": "#/components/responses/CalendarFeed"},
                  "304": {"$ref": "#/components/responses/NotModified"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/resources/{id}/calendar-feed": {
              "get": {
                "operationId": "resourceCalendarFeedLink",
                "summary": "For the admin: the path of the resource's feed with its own feed key, derived from the calendar feed secret, which opens that resource's feed and no other (give it to the resource's staff; a new secret changes every key). 404 for an unknown resource or while no feed secret is configured",
                "security": [{"admin": []}],
                "parameters": [{"$ref": "#/components/parameters/ResourcePathID"}],
                "responses": {
                  "200": {"description": "The feed's path", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CalendarFeedLink"}}}},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/appointments/{id}/cancel": {
              "post": {
                "operationId": "cancelAppointment",
                "summary": "Cancel (admin, or the cancel token in X-Cancel-Token or the body); idempotent",
                "security": [{"admin": []}, {"cancelToken": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/ID"},
                  {"name": "X-Cancel-Token", "in": "header", "required": false, "schema": {"type": "string"}}
                ],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CancelRequest"}}}},
                "responses": {
                  "200": {"description": "The cancelled appointment", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Appointment"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/appointments/{id}/reschedule": {
              "post": {
                "operationId": "rescheduleAppointment",
                "summary": "Move a booked appointment to another offered slot (admin, or the cancel token in X-Cancel-Token or the body): same id and token, sequence up by one, the old slot free again, all at once or nothing. It may overlap its own old interval but no other booked one. The new slot must have a seat left, not hold the customer already, nor be held by someone else, and its day and week must be under the limits (the appointment itself not counted, so a move within one day is fine). A wrong token is 403, an unknown id 404",
                "security": [{"admin": []}, {"cancelToken": []}],
                "parameters": [
                  {"$ref": "#/components/parameters/ID"},
                  {"name": "X-Cancel-Token", "in": "header", "required": false, "schema": {"type": "string"}},
                  {"name": "Idempotency-Key", "in": "header", "required": false, "description": "As for bookings, in a namespace of its own. A retry with the same key, appointment and slot returns the appointment as it is now (200, Idempotent-Replayed: true) and moves nothing; the same key with another appointment or slot is 422", "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RescheduleRequest"}}}},
                "responses": {
                  "200": {"description": "The moved appointment (unchanged when it already held the slot)", "headers": {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Appointment"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"},
                  "422": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/notifications": {
              "get": {
                "operationId": "listNotifications",
                "summary": "Outbox notifications, optionally of one appointment (admin)",
                "security": [{"admin": []}],
                "parameters": [{"name": "appointment_id", "in": "query", "required": false, "schema": {"type": "integer", "format": "int64", "minimum": 1}}],
                "responses": {
                  "200": {"description": "Notifications", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/notifications/{id}/retry": {
              "post": {
                "operationId": "retryNotification",
                "summary": "Deliver a failed notification again (admin): back to pending, due now, its attempts counted afresh; a notification that has not failed is answered as it is",
                "security": [{"admin": []}],
                "parameters": [{"$ref": "#/components/parameters/ID"}],
                "responses": {
                  "200": {"description": "The notification", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Notification"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}
                }
              }
            },
            "/api/openapi.json": {
              "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}
              }
            },
            "/": {
              "get": {
                "operationId": "webPage",
                "summary": "The booking web page",
                "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}
              }
            }
          },
          "components": {
            "securitySchemes": {
              "admin": {"type": "http", "scheme": "bearer"},
              "cancelToken": {"type": "apiKey", "in": "header", "name": "X-Cancel-Token", "description": "The appointment's cancel token, from its booking's answer (a cancel and a move take it in the body too)"},
              "calendarFeed": {"type": "http", "scheme": "bearer", "description": "The calendar feed secret (--calendar-feed-secret), which opens every resource's feed, or a resource's feed key (GET /api/resources/{id}/calendar-feed), which opens its own"}
            },
            "headers": {
              "IdempotentReplayed": {"description": "true when this answers a retry of an earlier request with the same Idempotency-Key (nothing new was done)", "schema": {"type": "string", "enum": ["true"]}}
            },
            "parameters": {
              "ID": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}},
              "ResourcePathID": {"name": "id", "in": "path", "required": true, "description": "A configured resource's id", "schema": {"$ref": "#/components/schemas/ResourceID"}},
              "IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": false, "description": "The ETag of a feed already held: 304 while it is current", "schema": {"type": "string"}}
            },
            "responses": {
              "CalendarFeed": {
                "description": "The feed (text/calendar; charset=utf-8), with Cache-Control: private, no-cache",
                "headers": {"ETag": {"description": "A strong validator: the SHA-256 of the body", "schema": {"type": "string"}}},
                "content": {"text/calendar": {"schema": {"type": "string"}}}
              },
              "NotModified": {
                "description": "The feed has not changed since the ETag in If-None-Match",
                "headers": {"ETag": {"description": "The feed's current ETag", "schema": {"type": "string"}}}
              },
              "Error": {
                "description": "An error as RFC 9457 problem details; a 503 and a 409 SLOT_HELD carry Retry-After",
                "headers": {"Retry-After": {"description": "Whole seconds to wait before retrying: 503, and 409 SLOT_HELD (until the holds in the way expire, rounded up, at least 1)", "schema": {"type": "integer", "minimum": 1}}},
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
              }
            },
            "schemas": {
              "Schedule": {
                "type": "object", "required": ["resource", "time_zone", "slot_minutes", "days_ahead", "min_notice_minutes"],
                "properties": {
                  "resource": {"type": "string"}, "time_zone": {"type": "string"}, "slot_minutes": {"type": "integer"},
                  "days_ahead": {"type": "integer"}, "min_notice_minutes": {"type": "integer"}
                }
              },
              "Resource": {
                "type": "object", "required": ["id", "name", "time_zone", "slot_minutes", "capacity", "daily_limit", "weekly_limit"],
                "properties": {
                  "id": {"$ref": "#/components/schemas/ResourceID"}, "name": {"type": "string"},
                  "time_zone": {"type": "string", "description": "The IANA zone of the resource's hours and date overrides"},
                  "slot_minutes": {"type": "integer"},
                  "capacity": {"type": "integer", "minimum": 1, "description": "Seats per slot: how many bookings may share one slot"},
                  "daily_limit": {"type": "integer", "minimum": 1, "nullable": true, "description": "At most this many bookings per local day of time_zone; null for no limit"},
                  "weekly_limit": {"type": "integer", "minimum": 1, "nullable": true, "description": "At most this many bookings per ISO week (Monday to Sunday) of time_zone; null for no limit"}
                }
              },
              "CalendarFeedLink": {
                "type": "object", "required": ["resource", "path"],
                "properties": {
                  "resource": {"$ref": "#/components/schemas/ResourceID"},
                  "path": {"type": "string", "description": "/api/resources/{id}/calendar/{feed key}.ics: put the host's public origin before it"}
                }
              },
              "Health": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
              "ResourceID": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$", "description": "Not dots alone"},
              "Slot": {
                "type": "object", "required": ["start", "end", "seats_left"],
                "properties": {
                  "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
                  "seats_left": {"type": "integer", "minimum": 1, "description": "The resource's capacity minus the slot's bookings and live holds"}
                }
              },
              "HoldRequest": {
                "type": "object", "required": ["slotStart", "slotEnd"], "additionalProperties": false,
                "properties": {
                  "slotStart": {"type": "string", "format": "date-time"},
                  "slotEnd": {"type": "string", "format": "date-time"},
                  "resource": {"allOf": [{"$ref": "#/components/schemas/ResourceID"}], "nullable": true, "description": "default when absent or null"}
                }
              },
              "Hold": {
                "type": "object", "required": ["token", "resource", "slot_start", "slot_end", "expires_at"],
                "properties": {
                  "token": {"type": "string", "description": "The hold's secret, shown once: holdToken of POST /api/appointments, or DELETE /api/holds/{token}"},
                  "resource": {"type": "string"},
                  "slot_start": {"type": "string", "format": "date-time"},
                  "slot_end": {"type": "string", "format": "date-time"},
                  "expires_at": {"type": "string", "format": "date-time", "description": "From this instant the hold takes nothing and its token books nothing"}
                }
              },
              "BookingRequest": {
                "type": "object", "required": ["slotStart", "slotEnd", "name", "email"], "additionalProperties": false,
                "properties": {
                  "slotStart": {"type": "string", "format": "date-time"},
                  "slotEnd": {"type": "string", "format": "date-time"},
                  "name": {"type": "string", "minLength": 1, "maxLength": 200},
                  "email": {"type": "string", "maxLength": 254, "description": "One @, a non-empty local part and a dot in the domain"},
                  "note": {"type": "string", "maxLength": 500, "nullable": true},
                  "resource": {"allOf": [{"$ref": "#/components/schemas/ResourceID"}], "nullable": true, "description": "default when absent or null"},
                  "holdToken": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$", "nullable": true, "description": "The token of the caller's live hold on this slot (POST /api/holds); the booking uses it up"}
                }
              },
              "CancelRequest": {"type": "object", "additionalProperties": false, "properties": {"token": {"type": "string", "nullable": true}}},
              "RescheduleRequest": {
                "type": "object", "required": ["slotStart", "slotEnd"], "additionalProperties": false,
                "properties": {"slotStart": {"type": "string", "format": "date-time"}, "slotEnd": {"type": "string", "format": "date-time"}, "token": {"type": "string", "nullable": true, "description": "The cancel token, when X-Cancel-Token does not carry it (a non-empty header wins)"}}
              },
              "Appointment": {
                "type": "object",
                "required": ["id", "slot_start", "slot_end", "customer_name", "customer_email", "note", "status", "created_at", "updated_at", "resource", "cancelled_at", "sequence"],
                "properties": {
                  "id": {"type": "integer", "format": "int64"},
                  "slot_start": {"type": "string", "format": "date-time"},
                  "slot_end": {"type": "string", "format": "date-time"},
                  "customer_name": {"type": "string"},
                  "customer_email": {"type": "string"},
                  "note": {"type": "string", "nullable": true},
                  "status": {"type": "string", "enum": ["booked", "cancelled"]},
                  "created_at": {"type": "string", "format": "date-time"},
                  "updated_at": {"type": "string", "format": "date-time"},
                  "resource": {"type": "string"},
                  "cancelled_at": {"type": "string", "format": "date-time", "nullable": true},
                  "sequence": {"type": "integer", "minimum": 0, "description": "0 when booked, one more after each reschedule and after the cancel (a calendar's SEQUENCE)"},
                  "cancel_token": {"type": "string", "description": "Returned once, when the appointment is created"}
                }
              },
              "Notification": {
                "type": "object",
                "required": ["id", "appointment_id", "kind", "sequence", "previous_slot_start", "previous_slot_end", "lead_minutes", "status", "attempts", "next_attempt_at", "error", "created_at", "updated_at", "sent_at"],
                "properties": {
                  "id": {"type": "integer", "format": "int64"},
                  "appointment_id": {"type": "integer", "format": "int64"},
                  "kind": {"type": "string", "enum": ["booked", "cancelled", "rescheduled", "reminder"]},
                  "sequence": {"type": "integer", "minimum": 0, "description": "The appointment's sequence the notification belongs to: 0 for booked, the move's for rescheduled, the cancel's for cancelled, that of the slot it reminds of for reminder"},
                  "previous_slot_start": {"type": "string", "format": "date-time", "nullable": true, "description": "The slot a rescheduled appointment left; null for other kinds"},
                  "previous_slot_end": {"type": "string", "format": "date-time", "nullable": true},
                  "lead_minutes": {"type": "integer", "minimum": 1, "nullable": true, "description": "For a reminder: minutes before the start it is due (next_attempt_at); null for other kinds"},
                  "status": {"type": "string", "enum": ["pending", "sent", "failed", "obsolete"], "description": "obsolete: a reminder of an appointment cancelled or moved since, never sent"},
                  "attempts": {"type": "integer"},
                  "next_attempt_at": {"type": "string", "format": "date-time"},
                  "error": {"type": "string", "nullable": true},
                  "created_at": {"type": "string", "format": "date-time"},
                  "updated_at": {"type": "string", "format": "date-time"},
                  "sent_at": {"type": "string", "format": "date-time", "nullable": true}
                }
              },
              "Problem": {
                "type": "object", "required": ["type", "title", "status", "detail", "error", "code"],
                "properties": {
                  "type": {"type": "string", "description": "about:blank: title is the status's reason phrase and code tells the cases apart"},
                  "title": {"type": "string"},
                  "status": {"type": "integer"},
                  "detail": {"type": "string"},
                  "error": {"type": "string", "description": "The same sentence as detail (kept for clients of the first version)"},
                  "code": {"type": "string", "description": "INVALID_INPUT, SLOT_NOT_OFFERED, SLOT_UNAVAILABLE, ALREADY_BOOKED, BOOKING_LIMIT_REACHED, SLOT_HELD, HOLD_EXPIRED, APPOINTMENT_CANCELLED, NOT_FOUND, FORBIDDEN, UNAUTHORIZED, IDEMPOTENCY_KEY_REUSED, STORE_UNAVAILABLE, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, METHOD_NOT_ALLOWED, BAD_REQUEST, REQUEST_HEAD_TOO_LARGE, INTERNAL_ERROR"},
                  "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}}
                }
              },
              "FieldProblem": {
                "type": "object", "required": ["detail"],
                "description": "One bad field: pointer (a JSON pointer into the body), parameter (query or path) or header",
                "properties": {
                  "pointer": {"type": "string"}, "parameter": {"type": "string"}, "header": {"type": "string"},
                  "detail": {"type": "string"}
                }
              }
            }
          }
        }
        """#
}
