import Foundation
import KilnCore
import OpenAPIKit

/// Builds the OpenAPI 3.1 description served at `GET /openapi.json`.
///
/// The request schema is generated from ``TrainingRequest/fields`` (KilnCore's single
/// description of the fal input), so ranges and defaults cannot drift from the validator.
public enum OpenAPIDocument {
    /// The document for a server reachable at `publicURL`, encoded as JSON.
    public static func json(publicURL: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(document(publicURL: publicURL))
    }

    /// The document for a server reachable at `publicURL`.
    public static func document(publicURL: String) -> OpenAPI.Document {
        let appPaths = ["/fal-ai/ltx23-video-trainer", "/ltx23-video-trainer"]
        var paths: OpenAPI.PathItem.Map = [:]
        for (index, app) in appPaths.enumerated() {
            let suffix = index == 0 ? "" : "Short"
            paths[OpenAPI.Path(rawValue: app)] = .b(OpenAPI.PathItem(post: submitOperation("submit\(suffix)")))
            paths[OpenAPI.Path(rawValue: "\(app)/requests/{request_id}/status")] = .b(OpenAPI.PathItem(
                parameters: [requestIDParameter], get: statusOperation("status\(suffix)")))
            paths[OpenAPI.Path(rawValue: "\(app)/requests/{request_id}/status/stream")] = .b(OpenAPI.PathItem(
                parameters: [requestIDParameter], get: streamOperation("statusStream\(suffix)")))
            paths[OpenAPI.Path(rawValue: "\(app)/requests/{request_id}")] = .b(OpenAPI.PathItem(
                parameters: [requestIDParameter], get: resultOperation("result\(suffix)")))
            paths[OpenAPI.Path(rawValue: "\(app)/requests/{request_id}/cancel")] = .b(OpenAPI.PathItem(
                parameters: [requestIDParameter], put: cancelOperation("cancel\(suffix)")))
            paths[OpenAPI.Path(rawValue: "/run\(app)")] = .b(OpenAPI.PathItem(post: runOperation("run\(suffix)")))
        }
        paths["/files"] = .b(OpenAPI.PathItem(post: uploadOperation))
        paths["/files/{file_id}/{file_name}"] = .b(OpenAPI.PathItem(
            parameters: [
                .b(.path(name: "file_id", schema: .string, description: "Id the upload answered with.")),
                .b(.path(name: "file_name", schema: .string, description: "File name the upload answered with.")),
            ],
            get: downloadOperation))
        paths["/healthz"] = .b(OpenAPI.PathItem(get: OpenAPI.Operation(
            summary: "Liveness and store check", operationId: "healthz",
            responses: [200: .b(jsonResponse("Healthy", .object))])))
        paths["/openapi.json"] = .b(OpenAPI.PathItem(get: OpenAPI.Operation(
            summary: "This document", operationId: "openapi",
            responses: [200: .b(jsonResponse("OpenAPI 3.1 document", .object))])))
        paths["/metrics"] = .b(OpenAPI.PathItem(get: OpenAPI.Operation(
            summary: "Prometheus metrics (text format)", operationId: "metrics",
            responses: [200: .b(OpenAPI.Response(description: "Prometheus text exposition",
                                                 content: [.txt: content(.string)]))])))

        let components = OpenAPI.Components(
            schemas: [
                "TrainingInput": inputSchema,
                "TrainingOutput": outputSchema,
                "File": fileSchema,
                "QueueStatus": statusSchema,
                "SubmitAnswer": submitSchema,
                "ValidationError": validationErrorSchema,
                "ErrorDetail": errorSchema,
            ],
            securitySchemes: [
                "falKey": .b(OpenAPI.SecurityScheme(
                    type: .apiKey(name: "Authorization", location: .header),
                    description: "`Key <id>:<secret>` (fal's form) or `Bearer <id>:<secret>`. Not needed in open local mode (no keys exist, loopback only)."))
            ]
        )
        return OpenAPI.Document(
            openAPIVersion: .v3_1_1,
            info: .init(title: "Kiln — LTX-2.3 LoRA trainer (fal-compatible)",
                        description: "Wire-compatible with fal.ai's `fal-ai/ltx23-video-trainer` queue endpoint. Price estimate: \(Pricing.usdPerStep) USD per step.",
                        version: "1.0.0"),
            servers: [.init(urlTemplate: URLTemplate(rawValue: publicURL) ?? URLTemplate(rawValue: "http://127.0.0.1:8188")!)],
            paths: paths,
            components: components,
            security: [[.component(named: "falKey"): []]]
        )
    }

    // MARK: Schemas

    /// The input schema, one property per ``RequestField``.
    static var inputSchema: JSONSchema {
        var properties: OrderedDictionary<String, JSONSchema> = [:]
        for field in TrainingRequest.fields {
            properties[field.name] = schema(for: field)
        }
        return .object(title: "TrainingInput", description: "The training request (fal input schema). Unknown fields are refused.",
                       properties: properties, additionalProperties: .a(false))
    }

    static func anyCodable(_ value: JSONValue?) -> AnyCodable? {
        guard let value else { return nil }
        switch value {
        case .null: return AnyCodable(nil as String?)
        case .bool(let v): return AnyCodable(v)
        case .integer(let v): return AnyCodable(Int(v))
        case .number(let v): return AnyCodable(v)
        case .string(let v): return AnyCodable(v)
        case .array(let items): return AnyCodable(items.compactMap { anyCodable($0) })
        case .object(let dict): return AnyCodable(dict.compactMapValues { anyCodable($0) })
        }
    }

    static func schema(for field: RequestField) -> JSONSchema {
        let required = field.isRequired
        let defaultValue = anyCodable(field.defaultValue)
        let description = field.description
        switch field.kind {
        case .url:
            return .string(format: .uri, required: required, description: description, defaultValue: defaultValue)
        case .string:
            return .string(required: required, description: description, defaultValue: defaultValue)
        case .integer(let min, let max):
            return .integer(required: required, description: description,
                            maximum: (max, exclusive: false), minimum: (min, exclusive: false), defaultValue: defaultValue)
        case .integerChoice(let values):
            return .integer(required: required, description: description,
                            allowedValues: values.map { AnyCodable($0) }, defaultValue: defaultValue)
        case .frameCount(let min, let max):
            return .integer(required: required, description: description + " Allowed: \(min)...\(max) with value % 8 == 1.",
                            maximum: (max, exclusive: false), minimum: (min, exclusive: false),
                            allowedValues: stride(from: min, through: max, by: 1).filter { $0 % 8 == 1 }.map { AnyCodable($0) },
                            defaultValue: defaultValue)
        case .number(let min, let max):
            return .number(required: required, description: description,
                           maximum: (max, exclusive: false), minimum: (min, exclusive: false), defaultValue: defaultValue)
        case .boolean:
            return .boolean(required: required, description: description, defaultValue: defaultValue)
        case .optionalBoolean:
            return .boolean(required: required, nullable: true, description: description, defaultValue: defaultValue)
        case .choice(let values):
            return .string(required: required, description: description,
                           allowedValues: values.map { AnyCodable($0) }, defaultValue: defaultValue)
        case .validationList:
            return .array(required: required, description: description,
                          items: .object(properties: [
                              "prompt": .string(description: "Prompt for this validation sample."),
                              "image_url": .string(format: .uri, required: false,
                                                   description: "Optional first-frame image; if one item has it, all must."),
                          ], additionalProperties: .a(false)),
                          defaultValue: defaultValue)
        }
    }

    static var fileSchema: JSONSchema {
        .object(title: "File", properties: [
            "url": .string(format: .uri, description: "Absolute URL this server serves the file at."),
            "content_type": .string,
            "file_name": .string,
            "file_size": .integer,
        ])
    }

    static var outputSchema: JSONSchema {
        .object(title: "TrainingOutput", properties: [
            "lora_file": .reference(.component(named: "File")),
            "config_file": .reference(.component(named: "File")),
            "video": .reference(.component(named: "File"), required: false),
            "debug_dataset": .reference(.component(named: "File"), required: false),
        ])
    }

    static var statusSchema: JSONSchema {
        .object(title: "QueueStatus", properties: [
            "status": .string(allowedValues: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]),
            "request_id": .string(format: .generic),
            "queue_position": .integer(required: false, description: "0-based; present while IN_QUEUE."),
            "logs": .array(required: false, nullable: true, items: .object(properties: [
                "message": .string, "level": .string, "source": .string, "timestamp": .string(format: .dateTime),
            ])),
            "metrics": .object(required: false, properties: ["inference_time": .number(nullable: true)]),
            "error": .string(required: false, description: "Present when the job failed or was cancelled."),
            "error_type": .string(required: false),
            "response_url": .string(format: .uri),
            "status_url": .string(format: .uri),
            "cancel_url": .string(format: .uri),
        ])
    }

    static var submitSchema: JSONSchema {
        .object(title: "SubmitAnswer", properties: [
            "request_id": .string(format: .generic),
            "status": .string(allowedValues: ["IN_QUEUE"]),
            "queue_position": .integer,
            "response_url": .string(format: .uri),
            "status_url": .string(format: .uri),
            "cancel_url": .string(format: .uri),
            "price_estimate_usd": .number(required: false, description: "\(Pricing.usdPerStep) USD x number_of_steps."),
        ])
    }

    static var validationErrorSchema: JSONSchema {
        .object(title: "ValidationError", properties: [
            "detail": .array(items: .object(properties: [
                "loc": .array(items: .one(of: [.string, .integer])),
                "msg": .string,
                "type": .string,
            ])),
        ])
    }

    static var errorSchema: JSONSchema {
        .object(title: "ErrorDetail", properties: [
            "detail": .string,
            "error_type": .string(required: false),
        ])
    }

    // MARK: Operations

    static var requestIDParameter: Either<OpenAPI.Reference<OpenAPI.Parameter>, OpenAPI.Parameter> {
        .b(.path(name: "request_id", schema: .string(format: .generic), description: "The request_id submit answered with."))
    }

    static func jsonResponse(_ description: String, _ schema: JSONSchema) -> OpenAPI.Response {
        OpenAPI.Response(description: description, content: [.json: content(schema)])
    }

    static func content(_ schema: JSONSchema) -> Either<OpenAPI.Reference<OpenAPI.Content>, OpenAPI.Content> {
        .b(OpenAPI.Content(schema: schema, encoding: nil))
    }

    static func ref(_ name: String) -> JSONSchema { .reference(.component(named: name)) }

    static var errorResponses: OpenAPI.Response.Map {
        [
            401: .b(jsonResponse("Missing or wrong API key", ref("ErrorDetail"))),
            404: .b(jsonResponse("No such request for this key", ref("ErrorDetail"))),
        ]
    }

    static func submitOperation(_ id: String) -> OpenAPI.Operation {
        var responses: OpenAPI.Response.Map = [
            200: .b(jsonResponse("Queued", ref("SubmitAnswer"))),
            400: .b(jsonResponse("Malformed JSON", ref("ErrorDetail"))),
            415: .b(jsonResponse("Body is not JSON", ref("ErrorDetail"))),
            422: .b(jsonResponse("Invalid fields, one entry each", ref("ValidationError"))),
        ]
        responses.merge(errorResponses) { a, _ in a }
        return OpenAPI.Operation(
            summary: "Submit a training job to the queue", operationId: id,
            parameters: [.b(.query(name: "fal_webhook", required: false, schema: .string(format: .uri),
                                   description: "URL that receives {request_id, status, payload, error} when the job ends."))],
            requestBody: OpenAPI.Request(content: [.json: content(ref("TrainingInput"))], required: true),
            responses: responses)
    }

    static func statusOperation(_ id: String) -> OpenAPI.Operation {
        var responses: OpenAPI.Response.Map = [
            200: .b(jsonResponse("Completed (succeeded, failed or cancelled)", ref("QueueStatus"))),
            202: .b(jsonResponse("Queued or running", ref("QueueStatus"))),
        ]
        responses.merge(errorResponses) { a, _ in a }
        return OpenAPI.Operation(
            summary: "Status of a request", operationId: id,
            parameters: [.b(.query(name: "logs", required: false, schema: .string(allowedValues: ["0", "1", "true", "false"]),
                                   description: "Include the job's log lines."))],
            responses: responses)
    }

    static func streamOperation(_ id: String) -> OpenAPI.Operation {
        var responses: OpenAPI.Response.Map = [
            200: .b(OpenAPI.Response(description: "Server-Sent Events: one QueueStatus per `data:` line, `: keep-alive` comments, closed after COMPLETED. With logs=1 each event carries the log lines new since the previous event.",
                                     content: [OpenAPI.ContentType(rawValue: "text/event-stream")!: content(.string)])),
        ]
        responses.merge(errorResponses) { a, _ in a }
        return OpenAPI.Operation(
            summary: "Stream status changes", operationId: id,
            parameters: [.b(.query(name: "logs", required: false, schema: .string))],
            responses: responses)
    }

    static func resultOperation(_ id: String) -> OpenAPI.Operation {
        var responses: OpenAPI.Response.Map = [
            200: .b(jsonResponse("The output", ref("TrainingOutput"))),
            400: .b(jsonResponse("Still in progress, or failed/cancelled with the job's own status code", ref("ErrorDetail"))),
        ]
        responses.merge(errorResponses) { a, _ in a }
        return OpenAPI.Operation(summary: "Result of a request", operationId: id, responses: responses)
    }

    static func cancelOperation(_ id: String) -> OpenAPI.Operation {
        OpenAPI.Operation(
            summary: "Cancel a request", operationId: id,
            responses: [
                202: .b(jsonResponse("CANCELLATION_REQUESTED", .object(properties: ["status": .string]))),
                400: .b(jsonResponse("ALREADY_COMPLETED", .object(properties: ["status": .string]))),
                404: .b(jsonResponse("NOT_FOUND", .object(properties: ["status": .string]))),
                401: .b(jsonResponse("Missing or wrong API key", ref("ErrorDetail"))),
            ])
    }

    static func runOperation(_ id: String) -> OpenAPI.Operation {
        var responses: OpenAPI.Response.Map = [
            200: .b(jsonResponse("The output, once the job has finished", ref("TrainingOutput"))),
            422: .b(jsonResponse("Invalid fields", ref("ValidationError"))),
        ]
        responses.merge(errorResponses) { a, _ in a }
        return OpenAPI.Operation(
            summary: "Submit and wait for the result (fal.run style)", operationId: id,
            requestBody: OpenAPI.Request(content: [.json: content(ref("TrainingInput"))], required: true),
            responses: responses)
    }

    static var uploadOperation: OpenAPI.Operation {
        OpenAPI.Operation(
            summary: "Upload a file (raw body with X-File-Name, or multipart/form-data with a `file` part)",
            operationId: "uploadFile",
            parameters: [.b(.header(name: "X-File-Name", required: false, schema: .string))],
            requestBody: OpenAPI.Request(content: [
                OpenAPI.ContentType(rawValue: "application/octet-stream")!: content(.string(contentEncoding: .binary)),
                .multipartForm: content(.object(properties: ["file": .string(contentEncoding: .binary)])),
            ], required: true),
            responses: [
                201: .b(jsonResponse("Stored", ref("File"))),
                400: .b(jsonResponse("Empty or malformed upload", ref("ErrorDetail"))),
                413: .b(jsonResponse("Larger than --max-upload-size; nothing kept", ref("ErrorDetail"))),
                401: .b(jsonResponse("Missing or wrong API key", ref("ErrorDetail"))),
            ])
    }

    static var downloadOperation: OpenAPI.Operation {
        OpenAPI.Operation(
            summary: "Download a stored file (Range supported)", operationId: "downloadFile",
            parameters: [.b(.header(name: "Range", required: false, schema: .string))],
            responses: [
                200: .b(OpenAPI.Response(description: "The whole file", content: [.any: content(.string(contentEncoding: .binary))])),
                206: .b(OpenAPI.Response(description: "The requested range", content: [.any: content(.string(contentEncoding: .binary))])),
                416: .b(jsonResponse("Range not satisfiable", ref("ErrorDetail"))),
                404: .b(jsonResponse("No such file for this key", ref("ErrorDetail"))),
            ])
    }
}
