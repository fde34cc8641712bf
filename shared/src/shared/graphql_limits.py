"""GraphQL hardening: depth, tokens, aliases, cost; introspection off in production; internal
errors masked (a deliberate Problem keeps its message and gets its status as an extension)."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from shared.http.problems import Problem
from shared.settings import BaseServiceSettings, Environment

# A list field is assumed to return this many items when estimating a query's cost.
LIST_FACTOR = 20


def _unwrap(t: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            is_list = True
        t = t.of_type
    return t, is_list


def query_cost(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode | None,
    parent: Any,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    """1 per field, children multiplied by LIST_FACTOR under a list."""
    if selection_set is None or not isinstance(parent, GraphQLObjectType):
        return 0
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue
            child, is_list = _unwrap(field.type)
            inner = query_cost(schema, selection.selection_set, child, fragments, seen)
            cost += 1 + inner * (LIST_FACTOR if is_list else 1)
        elif isinstance(selection, InlineFragmentNode):
            target = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            cost += query_cost(schema, selection.selection_set, target, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            cost += query_cost(schema, fragment.selection_set, target, fragments, seen | {name})
    return cost


def cost_limit_rule(max_cost: int) -> type[ValidationRule]:
    class QueryCostLimit(ValidationRule):
        def __init__(self, context: ValidationContext):
            super().__init__(context)
            self._fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            cost = query_cost(schema, node.selection_set, root, self._fragments)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}; ask for fewer fields "
                        "or smaller lists",
                        node,
                    )
                )

    return QueryCostLimit


def should_mask(error: GraphQLError) -> bool:
    """Mask what the caller should not see (internal failures); keep deliberate refusals."""
    original = error.original_error
    if original is None:
        return False  # validation and syntax errors are about the query itself
    # Deliberate refusals: our Problems, and GraphQL errors raised on purpose (permission classes).
    return not isinstance(original, Problem | GraphQLError)


class ProblemExtensions(SchemaExtension):
    """A Problem raised in a resolver carries its HTTP status and type into the GraphQL error."""

    def on_execute(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            original = error.original_error
            if isinstance(original, Problem):
                error.extensions = {
                    **(error.extensions or {}),
                    "status": original.status,
                    "type": original.body()["type"],
                }


def hardening(settings: BaseServiceSettings) -> list[Any]:
    """Extension factories: each request gets fresh instances."""
    cost_rule = cost_limit_rule(settings.graphql_max_cost)
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: AddValidationRules([cost_rule]),
        ProblemExtensions,
        lambda: MaskErrors(should_mask_error=should_mask, error_message="Internal error."),
    ]
    if settings.env is Environment.production:
        extensions.append(DisableIntrospection)
    return extensions
