/// A small, realistic Backstage catalog as the catalog API serves it: relations in both
/// directions and sorted by (type, targetRef), as the built-in processors and the stitcher emit
/// them; every kind the mappings read, a second namespace, missing and empty fields, and a
/// Location that no mapping matches.
enum CatalogFixture {
    static let entities: [String] = [
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Domain","metadata":{"name":"commerce","namespace":"default","title":"Commerce","description":"Everything that takes money.","uid":"d0000000-0000-4000-8000-000000000001","annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/catalog/blob/main/domains.yaml"},"links":[{"url":"https://wiki.acme.dev/commerce","title":"Wiki"}],"tags":["revenue"]},"spec":{"owner":"payments-team"},"relations":[{"type":"hasPart","targetRef":"system:default/checkout"},{"type":"ownedBy","targetRef":"group:default/payments-team"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"System","metadata":{"name":"checkout","namespace":"default","description":"Cart, payment and order confirmation.","uid":"d0000000-0000-4000-8000-000000000002","labels":{"tier":"1"}},"spec":{"owner":"payments-team","domain":"commerce"},"relations":[{"type":"hasPart","targetRef":"api:default/payments-api"},{"type":"hasPart","targetRef":"component:default/checkout-web"},{"type":"hasPart","targetRef":"component:default/payments-service"},{"type":"hasPart","targetRef":"resource:default/payments-db"},{"type":"ownedBy","targetRef":"group:default/payments-team"},{"type":"partOf","targetRef":"domain:default/commerce"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"payments-service","namespace":"default","title":"Payments Service","description":"Card payments and refunds.","uid":"d0000000-0000-4000-8000-000000000003","labels":{"tier":"critical"},"annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml","github.com/project-slug":"acme/payments"},"links":[{"url":"https://payments.acme.dev","title":"Dashboard","icon":"dashboard"},{"url":"https://runbooks.acme.dev/payments","title":"Runbook"}],"tags":["java","pci"]},"spec":{"type":"service","lifecycle":"production","owner":"payments-team","system":"checkout","language":"java","providesApis":["payments-api","refunds-api"],"consumesApis":["finance/ledger-api"],"dependsOn":["resource:payments-db","component:finance/ledger-service"]},"relations":[{"type":"consumesApi","targetRef":"api:finance/ledger-api"},{"type":"dependencyOf","targetRef":"component:default/checkout-web"},{"type":"dependsOn","targetRef":"component:finance/ledger-service"},{"type":"dependsOn","targetRef":"resource:default/payments-db"},{"type":"hasPart","targetRef":"component:default/payments-worker"},{"type":"ownedBy","targetRef":"group:default/payments-team"},{"type":"partOf","targetRef":"system:default/checkout"},{"type":"providesApi","targetRef":"api:default/payments-api"},{"type":"providesApi","targetRef":"api:default/refunds-api"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"payments-worker","namespace":"default","uid":"d0000000-0000-4000-8000-000000000004"},"spec":{"type":"worker","lifecycle":"experimental","owner":"user:jdoe","subcomponentOf":"payments-service"},"relations":[{"type":"dependencyOf","targetRef":"resource:default/backup-bucket"},{"type":"ownedBy","targetRef":"user:default/jdoe"},{"type":"partOf","targetRef":"component:default/payments-service"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"ledger-service","namespace":"finance","description":"Double-entry ledger.","uid":"d0000000-0000-4000-8000-000000000005","tags":[]},"spec":{"type":"service","lifecycle":"production","owner":"group:finance/finance-team","system":"ledger","providesApis":["ledger-api"]},"relations":[{"type":"dependencyOf","targetRef":"component:default/payments-service"},{"type":"ownedBy","targetRef":"group:finance/finance-team"},{"type":"partOf","targetRef":"system:finance/ledger"},{"type":"providesApi","targetRef":"api:finance/ledger-api"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"checkout-web","namespace":"default","description":"","uid":"d0000000-0000-4000-8000-000000000006","links":[]},"spec":{"type":"website","lifecycle":"production","owner":"web-team","system":"checkout","consumesApis":["payments-api"],"dependsOn":["component:payments-service"]},"relations":[{"type":"consumesApi","targetRef":"api:default/payments-api"},{"type":"dependsOn","targetRef":"component:default/payments-service"},{"type":"ownedBy","targetRef":"group:default/web-team"},{"type":"partOf","targetRef":"system:default/checkout"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"API","metadata":{"name":"payments-api","namespace":"default","title":"Payments API","description":"Charge and capture.","uid":"d0000000-0000-4000-8000-000000000007"},"spec":{"type":"openapi","lifecycle":"production","owner":"payments-team","system":"checkout","definition":"openapi: 3.0.0\ninfo:\n  title: Payments\n  version: 1.0.0\npaths: {}\n"},"relations":[{"type":"apiConsumedBy","targetRef":"component:default/checkout-web"},{"type":"apiProvidedBy","targetRef":"component:default/payments-service"},{"type":"ownedBy","targetRef":"group:default/payments-team"},{"type":"partOf","targetRef":"system:default/checkout"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"API","metadata":{"name":"refunds-api","namespace":"default","uid":"d0000000-0000-4000-8000-000000000008"},"spec":{"type":"grpc","lifecycle":"beta","owner":"user:jdoe","definition":"syntax = \"proto3\";\nservice Refunds {}\n"},"relations":[{"type":"apiProvidedBy","targetRef":"component:default/payments-service"},{"type":"ownedBy","targetRef":"user:default/jdoe"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"API","metadata":{"name":"ledger-api","namespace":"finance","uid":"d0000000-0000-4000-8000-000000000009"},"spec":{"type":"graphql","lifecycle":"production","owner":"group:finance/finance-team","system":"ledger","definition":"type Query { balance(account: ID!): Float }"},"relations":[{"type":"apiConsumedBy","targetRef":"component:default/payments-service"},{"type":"apiProvidedBy","targetRef":"component:finance/ledger-service"},{"type":"ownedBy","targetRef":"group:finance/finance-team"},{"type":"partOf","targetRef":"system:finance/ledger"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"API","metadata":{"name":"order-events","namespace":"default","uid":"d0000000-0000-4000-8000-000000000010"},"spec":{"type":"asyncapi","lifecycle":"experimental","owner":"web-team"},"relations":[{"type":"ownedBy","targetRef":"group:default/web-team"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Resource","metadata":{"name":"payments-db","namespace":"default","title":"Payments database","uid":"d0000000-0000-4000-8000-000000000011","annotations":{"backstage.io/managed-by-location":"url:https://git.acme.dev/payments/blob/main/catalog-info.yaml"}},"spec":{"type":"database","owner":"payments-team","system":"checkout","dependsOn":["resource:backup-bucket"]},"relations":[{"type":"dependencyOf","targetRef":"component:default/payments-service"},{"type":"dependsOn","targetRef":"resource:default/backup-bucket"},{"type":"ownedBy","targetRef":"group:default/payments-team"},{"type":"partOf","targetRef":"system:default/checkout"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Resource","metadata":{"name":"backup-bucket","namespace":"default","uid":"d0000000-0000-4000-8000-000000000012","tags":["s3"]},"spec":{"type":"s3-bucket","owner":"platform-team","dependsOn":["component:payments-worker"]},"relations":[{"type":"dependencyOf","targetRef":"resource:default/payments-db"},{"type":"dependsOn","targetRef":"component:default/payments-worker"},{"type":"ownedBy","targetRef":"group:default/platform-team"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"payments-team","namespace":"default","title":"Payments Team","description":"Owns payments.","uid":"d0000000-0000-4000-8000-000000000013"},"spec":{"type":"team","profile":{"displayName":"Payments","email":"payments@acme.dev"},"parent":"engineering","children":[],"members":["jdoe","asmith"]},"relations":[{"type":"childOf","targetRef":"group:default/engineering"},{"type":"hasMember","targetRef":"user:default/asmith"},{"type":"hasMember","targetRef":"user:default/jdoe"},{"type":"ownerOf","targetRef":"api:default/payments-api"},{"type":"ownerOf","targetRef":"component:default/payments-service"},{"type":"ownerOf","targetRef":"domain:default/commerce"},{"type":"ownerOf","targetRef":"resource:default/payments-db"},{"type":"ownerOf","targetRef":"system:default/checkout"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"engineering","namespace":"default","uid":"d0000000-0000-4000-8000-000000000014"},"spec":{"type":"department","profile":{"email":"eng@acme.dev"},"children":["payments-team","web-team"]},"relations":[{"type":"parentOf","targetRef":"group:default/payments-team"},{"type":"parentOf","targetRef":"group:default/web-team"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"web-team","namespace":"default","uid":"d0000000-0000-4000-8000-000000000015","links":[{"url":"https://chat.acme.dev/web","title":"Chat"}]},"spec":{"type":"team","parent":"engineering","children":[],"members":["asmith"]},"relations":[{"type":"childOf","targetRef":"group:default/engineering"},{"type":"hasMember","targetRef":"user:default/asmith"},{"type":"ownerOf","targetRef":"api:default/order-events"},{"type":"ownerOf","targetRef":"component:default/checkout-web"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"User","metadata":{"name":"jdoe","namespace":"default","uid":"d0000000-0000-4000-8000-000000000016"},"spec":{"profile":{"displayName":"Jane Doe","email":"jdoe@acme.dev"},"memberOf":["payments-team"]},"relations":[{"type":"memberOf","targetRef":"group:default/payments-team"},{"type":"ownerOf","targetRef":"api:default/refunds-api"},{"type":"ownerOf","targetRef":"component:default/payments-worker"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"User","metadata":{"name":"asmith","namespace":"default","title":"Alex Smith","description":"Front-end and payments.","uid":"d0000000-0000-4000-8000-000000000017","labels":{"location":"remote"}},"spec":{"profile":{"email":"asmith@acme.dev"},"memberOf":["payments-team","web-team"]},"relations":[{"type":"memberOf","targetRef":"group:default/payments-team"},{"type":"memberOf","targetRef":"group:default/web-team"}]}
        """#,
        #"""
        {"apiVersion":"backstage.io/v1alpha1","kind":"Location","metadata":{"name":"root","namespace":"default","uid":"d0000000-0000-4000-8000-000000000018"},"spec":{"type":"url","targets":["https://git.acme.dev/catalog/blob/main/all.yaml"]},"relations":[]}
        """#,
    ]
}
