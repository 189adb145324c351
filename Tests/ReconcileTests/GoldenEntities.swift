/// The Port entities the two mappings must produce for `CatalogFixture`, written by hand from
/// Ocean's documented semantics (first output only; no output → null; falsy values kept).
enum GoldenEntities {
    /// `OceanDefaultMapping`: Ocean's exact output, defects included — one target per
    /// many-relation, `system` by concatenation (`system:default/` when `spec.system` is unset),
    /// `subcomponentOf` never set, email and group type null, link objects, `"null"` definitions,
    /// `definitionOpenAPI`/`definitionAsyncAPI` null for Backstage's `openapi`/`asyncapi` types.
    static let oceanDefault: [String: String] = [
        "domain:default/commerce": #"""
        {"identifier":"domain:default/commerce","title":"Commerce","blueprint":"domain",
         "properties":{"description":"Everything that takes money.","labels":null,
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/catalog/blob/main/domains.yaml"},
           "links":[{"url":"https://wiki.acme.dev/commerce","title":"Wiki"}],"tags":["revenue"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team"}}
        """#,
        "system:default/checkout": #"""
        {"identifier":"system:default/checkout","title":"checkout","blueprint":"system",
         "properties":{"description":"Cart, payment and order confirmation.","labels":{"tier":"1"},"annotations":null,
           "links":null,"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","domain":"domain:default/commerce"}}
        """#,
        "component:default/payments-service": #"""
        {"identifier":"component:default/payments-service","title":"Payments Service","blueprint":"component",
         "properties":{"type":"service","lifecycle":"production","language":"java","description":"Card payments and refunds.",
           "labels":{"tier":"critical"},
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml",
                          "github.com/project-slug":"acme/payments"},
           "links":[{"url":"https://payments.acme.dev","title":"Dashboard","icon":"dashboard"},
                    {"url":"https://runbooks.acme.dev/payments","title":"Runbook"}],
           "tags":["java","pci"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout",
           "subcomponentOf":null,"providesApis":"api:default/payments-api","consumesApis":"api:finance/ledger-api",
           "dependsOnComponent":"component:finance/ledger-service","dependsOnResource":"resource:default/payments-db"}}
        """#,
        "component:default/payments-worker": #"""
        {"identifier":"component:default/payments-worker","title":"payments-worker","blueprint":"component",
         "properties":{"type":"worker","lifecycle":"experimental","language":null,"description":null,"labels":null,
           "annotations":null,"links":null,"tags":null},
         "relations":{"owningUser":"user:default/jdoe","owningGroup":null,"system":"system:default/","subcomponentOf":null,
           "providesApis":null,"consumesApis":null,"dependsOnComponent":null,"dependsOnResource":null}}
        """#,
        "component:finance/ledger-service": #"""
        {"identifier":"component:finance/ledger-service","title":"ledger-service","blueprint":"component",
         "properties":{"type":"service","lifecycle":"production","language":null,"description":"Double-entry ledger.",
           "labels":null,"annotations":null,"links":null,"tags":[]},
         "relations":{"owningUser":null,"owningGroup":"group:finance/finance-team","system":"system:finance/ledger",
           "subcomponentOf":null,"providesApis":"api:finance/ledger-api","consumesApis":null,"dependsOnComponent":null,
           "dependsOnResource":null}}
        """#,
        "component:default/checkout-web": #"""
        {"identifier":"component:default/checkout-web","title":"checkout-web","blueprint":"component",
         "properties":{"type":"website","lifecycle":"production","language":null,"description":"","labels":null,
           "annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/web-team","system":"system:default/checkout",
           "subcomponentOf":null,"providesApis":null,"consumesApis":"api:default/payments-api",
           "dependsOnComponent":"component:default/payments-service","dependsOnResource":null}}
        """#,
        "api:default/payments-api": #"""
        {"identifier":"api:default/payments-api","title":"Payments API","blueprint":"api",
         "properties":{"type":"openapi","lifecycle":"production",
           "definition":"openapi: 3.0.0\ninfo:\n  title: Payments\n  version: 1.0.0\npaths: {}\n",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,"definitionGraphQL":null,
           "description":"Charge and capture.","labels":null,"annotations":null,"links":null,"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout"}}
        """#,
        "api:default/refunds-api": #"""
        {"identifier":"api:default/refunds-api","title":"refunds-api","blueprint":"api",
         "properties":{"type":"grpc","lifecycle":"beta","definition":"syntax = \"proto3\";\nservice Refunds {}\n",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":"syntax = \"proto3\";\nservice Refunds {}\n",
           "definitionGraphQL":null,"description":null,"labels":null,"annotations":null,"links":null,"tags":null},
         "relations":{"owningUser":"user:default/jdoe","owningGroup":null,"system":"system:default/"}}
        """#,
        "api:finance/ledger-api": #"""
        {"identifier":"api:finance/ledger-api","title":"ledger-api","blueprint":"api",
         "properties":{"type":"graphql","lifecycle":"production","definition":"type Query { balance(account: ID!): Float }",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,
           "definitionGraphQL":"type Query { balance(account: ID!): Float }",
           "description":null,"labels":null,"annotations":null,"links":null,"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:finance/finance-team","system":"system:finance/ledger"}}
        """#,
        "api:default/order-events": #"""
        {"identifier":"api:default/order-events","title":"order-events","blueprint":"api",
         "properties":{"type":"asyncapi","lifecycle":"experimental","definition":"null",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,"definitionGraphQL":null,
           "description":null,"labels":null,"annotations":null,"links":null,"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/web-team","system":"system:default/"}}
        """#,
        "resource:default/payments-db": #"""
        {"identifier":"resource:default/payments-db","title":"Payments database","blueprint":"resource",
         "properties":{"type":"database","description":null,"labels":null,
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml"},
           "links":null,"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout",
           "dependsOnResource":"resource:default/backup-bucket","dependsOnComponent":null}}
        """#,
        "resource:default/backup-bucket": #"""
        {"identifier":"resource:default/backup-bucket","title":"backup-bucket","blueprint":"resource",
         "properties":{"type":"s3-bucket","description":null,"labels":null,"annotations":null,"links":null,"tags":["s3"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/platform-team","system":"system:default/",
           "dependsOnResource":null,"dependsOnComponent":"component:default/payments-worker"}}
        """#,
        "group:default/payments-team": #"""
        {"identifier":"group:default/payments-team","title":"Payments Team","blueprint":"group",
         "properties":{"description":"Owns payments.","type":null,"email":null,"labels":null,"annotations":null,
           "links":null,"tags":null},
         "relations":{"parent":"group:default/engineering","members":"user:default/asmith"}}
        """#,
        "group:default/engineering": #"""
        {"identifier":"group:default/engineering","title":"engineering","blueprint":"group",
         "properties":{"description":null,"type":null,"email":null,"labels":null,"annotations":null,"links":null,"tags":null},
         "relations":{"parent":null,"members":null}}
        """#,
        "group:default/web-team": #"""
        {"identifier":"group:default/web-team","title":"web-team","blueprint":"group",
         "properties":{"description":null,"type":null,"email":null,"labels":null,"annotations":null,
           "links":[{"url":"https://chat.acme.dev/web","title":"Chat"}],"tags":null},
         "relations":{"parent":"group:default/engineering","members":"user:default/asmith"}}
        """#,
        "user:default/jdoe": #"""
        {"identifier":"user:default/jdoe","title":"jdoe","blueprint":"user",
         "properties":{"email":null,"description":null,"labels":null,"annotations":null,"links":null,"tags":null}}
        """#,
        "user:default/asmith": #"""
        {"identifier":"user:default/asmith","title":"Alex Smith","blueprint":"user",
         "properties":{"email":null,"description":"Front-end and payments.","labels":{"location":"remote"},
           "annotations":null,"links":null,"tags":null}}
        """#,
    ]

    /// `BuiltinMapping`: every many-relation target as an array, `system` and `subcomponentOf`
    /// from `partOf`, email and group type from `spec`, links as URL strings (`[]` when none),
    /// `definition` null when there is none.
    static let builtin: [String: String] = [
        "domain:default/commerce": #"""
        {"identifier":"domain:default/commerce","title":"Commerce","blueprint":"domain",
         "properties":{"description":"Everything that takes money.","labels":null,
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/catalog/blob/main/domains.yaml"},
           "links":["https://wiki.acme.dev/commerce"],"tags":["revenue"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team"}}
        """#,
        "system:default/checkout": #"""
        {"identifier":"system:default/checkout","title":"checkout","blueprint":"system",
         "properties":{"description":"Cart, payment and order confirmation.","labels":{"tier":"1"},"annotations":null,
           "links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","domain":"domain:default/commerce"}}
        """#,
        "component:default/payments-service": #"""
        {"identifier":"component:default/payments-service","title":"Payments Service","blueprint":"component",
         "properties":{"type":"service","lifecycle":"production","language":"java","description":"Card payments and refunds.",
           "labels":{"tier":"critical"},
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml",
                          "github.com/project-slug":"acme/payments"},
           "links":["https://payments.acme.dev","https://runbooks.acme.dev/payments"],
           "tags":["java","pci"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout",
           "subcomponentOf":null,"providesApis":["api:default/payments-api","api:default/refunds-api"],
           "consumesApis":["api:finance/ledger-api"],"dependsOnComponent":["component:finance/ledger-service"],
           "dependsOnResource":["resource:default/payments-db"]}}
        """#,
        "component:default/payments-worker": #"""
        {"identifier":"component:default/payments-worker","title":"payments-worker","blueprint":"component",
         "properties":{"type":"worker","lifecycle":"experimental","language":null,"description":null,"labels":null,
           "annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":"user:default/jdoe","owningGroup":null,"system":null,
           "subcomponentOf":"component:default/payments-service",
           "providesApis":[],"consumesApis":[],"dependsOnComponent":[],"dependsOnResource":[]}}
        """#,
        "component:finance/ledger-service": #"""
        {"identifier":"component:finance/ledger-service","title":"ledger-service","blueprint":"component",
         "properties":{"type":"service","lifecycle":"production","language":null,"description":"Double-entry ledger.",
           "labels":null,"annotations":null,"links":[],"tags":[]},
         "relations":{"owningUser":null,"owningGroup":"group:finance/finance-team","system":"system:finance/ledger",
           "subcomponentOf":null,"providesApis":["api:finance/ledger-api"],"consumesApis":[],"dependsOnComponent":[],
           "dependsOnResource":[]}}
        """#,
        "component:default/checkout-web": #"""
        {"identifier":"component:default/checkout-web","title":"checkout-web","blueprint":"component",
         "properties":{"type":"website","lifecycle":"production","language":null,"description":"","labels":null,
           "annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/web-team","system":"system:default/checkout",
           "subcomponentOf":null,"providesApis":[],"consumesApis":["api:default/payments-api"],
           "dependsOnComponent":["component:default/payments-service"],"dependsOnResource":[]}}
        """#,
        "api:default/payments-api": #"""
        {"identifier":"api:default/payments-api","title":"Payments API","blueprint":"api",
         "properties":{"type":"openapi","lifecycle":"production",
           "definition":"openapi: 3.0.0\ninfo:\n  title: Payments\n  version: 1.0.0\npaths: {}\n",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,"definitionGraphQL":null,
           "description":"Charge and capture.","labels":null,"annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout"}}
        """#,
        "api:default/refunds-api": #"""
        {"identifier":"api:default/refunds-api","title":"refunds-api","blueprint":"api",
         "properties":{"type":"grpc","lifecycle":"beta","definition":"syntax = \"proto3\";\nservice Refunds {}\n",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":"syntax = \"proto3\";\nservice Refunds {}\n",
           "definitionGraphQL":null,"description":null,"labels":null,"annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":"user:default/jdoe","owningGroup":null,"system":null}}
        """#,
        "api:finance/ledger-api": #"""
        {"identifier":"api:finance/ledger-api","title":"ledger-api","blueprint":"api",
         "properties":{"type":"graphql","lifecycle":"production","definition":"type Query { balance(account: ID!): Float }",
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,
           "definitionGraphQL":"type Query { balance(account: ID!): Float }",
           "description":null,"labels":null,"annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:finance/finance-team","system":"system:finance/ledger"}}
        """#,
        "api:default/order-events": #"""
        {"identifier":"api:default/order-events","title":"order-events","blueprint":"api",
         "properties":{"type":"asyncapi","lifecycle":"experimental","definition":null,
           "definitionOpenAPI":null,"definitionAsyncAPI":null,"definitionGRPC":null,"definitionGraphQL":null,
           "description":null,"labels":null,"annotations":null,"links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/web-team","system":null}}
        """#,
        "resource:default/payments-db": #"""
        {"identifier":"resource:default/payments-db","title":"Payments database","blueprint":"resource",
         "properties":{"type":"database","description":null,"labels":null,
           "annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml"},
           "links":[],"tags":null},
         "relations":{"owningUser":null,"owningGroup":"group:default/payments-team","system":"system:default/checkout",
           "dependsOnResource":["resource:default/backup-bucket"],"dependsOnComponent":[]}}
        """#,
        "resource:default/backup-bucket": #"""
        {"identifier":"resource:default/backup-bucket","title":"backup-bucket","blueprint":"resource",
         "properties":{"type":"s3-bucket","description":null,"labels":null,"annotations":null,"links":[],"tags":["s3"]},
         "relations":{"owningUser":null,"owningGroup":"group:default/platform-team","system":null,
           "dependsOnResource":[],"dependsOnComponent":["component:default/payments-worker"]}}
        """#,
        "group:default/payments-team": #"""
        {"identifier":"group:default/payments-team","title":"Payments Team","blueprint":"group",
         "properties":{"description":"Owns payments.","type":"team","email":"payments@acme.dev","labels":null,
           "annotations":null,"links":[],"tags":null},
         "relations":{"parent":"group:default/engineering","members":["user:default/asmith","user:default/jdoe"]}}
        """#,
        "group:default/engineering": #"""
        {"identifier":"group:default/engineering","title":"engineering","blueprint":"group",
         "properties":{"description":null,"type":"department","email":"eng@acme.dev","labels":null,"annotations":null,
           "links":[],"tags":null},
         "relations":{"parent":null,"members":[]}}
        """#,
        "group:default/web-team": #"""
        {"identifier":"group:default/web-team","title":"web-team","blueprint":"group",
         "properties":{"description":null,"type":"team","email":null,"labels":null,"annotations":null,
           "links":["https://chat.acme.dev/web"],"tags":null},
         "relations":{"parent":"group:default/engineering","members":["user:default/asmith"]}}
        """#,
        "user:default/jdoe": #"""
        {"identifier":"user:default/jdoe","title":"jdoe","blueprint":"user",
         "properties":{"email":"jdoe@acme.dev","description":null,"labels":null,"annotations":null,"links":[],"tags":null}}
        """#,
        "user:default/asmith": #"""
        {"identifier":"user:default/asmith","title":"Alex Smith","blueprint":"user",
         "properties":{"email":"asmith@acme.dev","description":"Front-end and payments.","labels":{"location":"remote"},
           "annotations":null,"links":[],"tags":null}}
        """#,
    ]
}
