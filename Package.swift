// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "kiln",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
        .library(name: "KilnCore", targets: ["KilnCore"]),
        .library(name: "KilnStore", targets: ["KilnStore"]),
        .library(name: "KilnServer", targets: ["KilnServer"]),
        .library(name: "KilnDataset", targets: ["KilnDataset"]),
        .library(name: "KilnEngine", targets: ["KilnEngine"]),
        .library(name: "KilnWorker", targets: ["KilnWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // Request schema, job model, pricing and errors. No I/O.
        .target(
            name: "KilnCore",
            swiftSettings: swiftSettings
        ),
        // Durable job store on SQLite (GRDB).
        .target(
            name: "KilnStore",
            dependencies: [
                "KilnCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Dataset pipeline: fetch, safe unzip, probe, scenes, conform.
        .target(
            name: "KilnDataset",
            dependencies: [
                "KilnCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Drives the Python engine (`python -m kiln_engine`) over JSON lines.
        .target(
            name: "KilnEngine",
            dependencies: [
                "KilnCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Claims jobs and runs their stages: fetch, dataset, engine, artifacts, webhooks.
        .target(
            name: "KilnWorker",
            dependencies: [
                "KilnCore",
                "KilnStore",
                "KilnDataset",
                "KilnEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // fal-compatible queue API (Hummingbird 2).
        .target(
            name: "KilnServer",
            dependencies: [
                "KilnCore",
                "KilnStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kiln",
            dependencies: [
                "KilnCore",
                "KilnStore",
                "KilnServer",
                "KilnDataset",
                "KilnEngine",
                "KilnWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnCoreTests",
            dependencies: ["KilnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnStoreTests",
            dependencies: ["KilnStore", "KilnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnDatasetTests",
            dependencies: ["KilnDataset", "KilnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnEngineTests",
            dependencies: ["KilnEngine", "KilnCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnWorkerTests",
            dependencies: [
                "KilnWorker", "KilnServer", "KilnStore", "KilnCore", "KilnDataset", "KilnEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KilnServerTests",
            dependencies: [
                "KilnServer", "KilnStore", "KilnCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
