/// mirrorctl's default mapping: Ocean's seed mapping with its known defects fixed (every
/// many-relation target kept, subcomponentOf and system from `partOf`, email and group type from
/// `spec`, links as URL strings, no `"null"` definitions). Also in `examples/mappings/builtin.yaml`.
public enum BuiltinMapping {
    /// The YAML text, byte for byte the file in `examples/mappings/`.
    public static let yaml = #"""
# mirrorctl's built-in mapping: Port's default Backstage mapping (examples/mappings/ocean-default.yaml)
# with its known defects fixed. It targets the same default blueprints.
#  - many-relations are wrapped in [...] so every target is kept, not only the first one;
#  - single relations end in `// null`, and `.relations[]?` tolerates a missing list, so a missing
#    relation is a plain null instead of a "no output" warning;
#  - subcomponentOf comes from the partOf relation to a component (Backstage emits no
#    "subcomponentOf" relation);
#  - system comes from the partOf relation to a system (no "system:default/" when spec.system is unset);
#  - user and group email come from .spec.profile.email, group type from .spec.type;
#  - links are the link URLs (the blueprint declares an array of URL strings);
#  - an API without a definition sends definition: null instead of the string "null".
createMissingRelatedEntities: true
deleteDependentEntities: true
enableMergeEntity: true
entityDeletionThreshold: 0.9
resources:
- kind: component
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"component"'
        properties:
          type: .spec.type
          lifecycle: .spec.lifecycle
          language: .spec.language
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          owningUser: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("user:"))) | .targetRef) // null
          owningGroup: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("group:"))) | .targetRef) // null
          system: (.relations[]? | select(.type == "partOf" and (.targetRef | startswith("system:"))) | .targetRef) // null
          subcomponentOf: (.relations[]? | select(.type == "partOf" and (.targetRef | startswith("component:"))) | .targetRef) // null
          providesApis: '[.relations[]? | select(.type == "providesApi" and (.targetRef | startswith("api:"))) | .targetRef]'
          consumesApis: '[.relations[]? | select(.type == "consumesApi" and (.targetRef | startswith("api:"))) | .targetRef]'
          dependsOnComponent: '[.relations[]? | select(.type == "dependsOn" and (.targetRef | startswith("component:"))) | .targetRef]'
          dependsOnResource: '[.relations[]? | select(.type == "dependsOn" and (.targetRef | startswith("resource:"))) | .targetRef]'
- kind: API
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"api"'
        properties:
          type: .spec.type
          lifecycle: .spec.lifecycle
          definition: if .spec.definition == null then null else (.spec.definition | tostring) end
          definitionOpenAPI: if .spec.type == "open-api" then .spec.definition else null end
          definitionAsyncAPI: if .spec.type == "async-api" then .spec.definition else null end
          definitionGRPC: if .spec.type == "grpc" then .spec.definition else null end
          definitionGraphQL: if .spec.type == "graphql" then .spec.definition else null end
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          owningUser: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("user:"))) | .targetRef) // null
          owningGroup: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("group:"))) | .targetRef) // null
          system: (.relations[]? | select(.type == "partOf" and (.targetRef | startswith("system:"))) | .targetRef) // null
- kind: group
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"group"'
        properties:
          description: .metadata.description
          type: .spec.type
          email: .spec.profile.email
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          parent: (.relations[]? | select(.type == "childOf" and (.targetRef | startswith("group:"))) | .targetRef) // null
          members: '[.relations[]? | select(.type == "hasMember" and (.targetRef | startswith("user:"))) | .targetRef]'
- kind: user
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"user"'
        properties:
          email: .spec.profile.email
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
- kind: resource
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"resource"'
        properties:
          type: .spec.type
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          owningUser: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("user:"))) | .targetRef) // null
          owningGroup: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("group:"))) | .targetRef) // null
          system: (.relations[]? | select(.type == "partOf" and (.targetRef | startswith("system:"))) | .targetRef) // null
          dependsOnResource: '[.relations[]? | select(.type == "dependsOn" and (.targetRef | startswith("resource:"))) | .targetRef]'
          dependsOnComponent: '[.relations[]? | select(.type == "dependsOn" and (.targetRef | startswith("component:"))) | .targetRef]'
- kind: system
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"system"'
        properties:
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          owningUser: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("user:"))) | .targetRef) // null
          owningGroup: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("group:"))) | .targetRef) // null
          domain: (.relations[]? | select(.type == "partOf" and (.targetRef | startswith("domain:"))) | .targetRef) // null
- kind: domain
  selector:
    query: 'true'
  port:
    entity:
      mappings:
        identifier: .metadata.identifier
        title: .metadata.title // .metadata.name
        blueprint: '"domain"'
        properties:
          description: .metadata.description
          labels: .metadata.labels
          annotations: .metadata.annotations
          links: '[.metadata.links[]?.url]'
          tags: .metadata.tags
        relations:
          owningUser: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("user:"))) | .targetRef) // null
          owningGroup: (.relations[]? | select(.type == "ownedBy" and (.targetRef | startswith("group:"))) | .targetRef) // null

"""#
}
