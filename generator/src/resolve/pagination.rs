//! Pagination: a method pages when it takes a `pageToken` (a query
//! parameter, or a field of its request body) and its response has a
//! `nextPageToken` (or, as in BigQuery, `pageToken`) string field. The
//! response struct gets `gapi::Page`, and `gapi::PageItems` when it has one
//! obvious repeated field: the only array; else the only array of named
//! types; else a field named `items`.

use super::Resolver;
use super::ir::*;
use super::methods::location;
use crate::parse;

impl Resolver<'_> {
    /// Detects pagination: a `pageToken` query parameter (or request body
    /// field) and a `nextPageToken` (or, as in BigQuery, `pageToken`) string
    /// field in the response struct.
    pub(super) fn pagination(
        &mut self,
        m: &parse::Method,
        args: &[Param],
        request: Option<&Ty>,
        response: Option<&Ty>,
    ) -> Option<Pagination> {
        let resp = self.struct_of(response?)?;
        let resp_name = resp.name.clone();
        let token_field = |s: &StructDef, wire: &str| {
            s.fields
                .iter()
                .find(|f| f.wire == wire && f.ty == Ty::String)
                .map(|f| f.rust.clone())
        };
        let query_token = m.parameters.get("pageToken").is_some_and(|p| {
            location(p) == Location::Query && !args.iter().any(|a| a.wire == "pageToken")
        });
        let body_token = !query_token
            && request
                .and_then(|r| self.struct_of(r))
                .is_some_and(|s| token_field(s, "pageToken").is_some());
        let location = if query_token {
            TokenLocation::Query
        } else if body_token {
            TokenLocation::Body
        } else {
            return None;
        };
        let token = token_field(resp, "nextPageToken").or_else(|| {
            if location == TokenLocation::Query {
                token_field(resp, "pageToken")
            } else {
                None
            }
        })?;
        let items = items_field(resp);
        if let Some(TypeDef::Struct(s)) = self.types.get_mut(&resp_name)
            && s.page.is_none()
        {
            s.page = Some(PageImpl {
                token_field: token,
                items,
            });
        }
        let has_items = matches!(
            self.types.get(&resp_name),
            Some(TypeDef::Struct(StructDef {
                page: Some(PageImpl { items: Some(_), .. }),
                ..
            }))
        );
        Some(Pagination {
            location,
            request_token: "pageToken".to_string(),
            items: has_items,
        })
    }
}

/// The single obvious repeated field of a list response: the only array
/// field; else the only array of named types; else a field named `items`.
fn items_field(s: &StructDef) -> Option<(String, Ty)> {
    let arrays: Vec<&Field> = s
        .fields
        .iter()
        .filter(|f| matches!(f.ty, Ty::Vec(_)))
        .collect();
    let pick = if arrays.len() == 1 {
        Some(arrays[0])
    } else {
        let named: Vec<&&Field> = arrays
            .iter()
            .filter(|f| matches!(&f.ty, Ty::Vec(t) if matches!(**t, Ty::Schema(_))))
            .collect();
        if named.len() == 1 {
            Some(*named[0])
        } else {
            arrays.iter().find(|f| f.wire == "items").copied()
        }
    }?;
    match &pick.ty {
        Ty::Vec(t) => Some((pick.rust.clone(), (**t).clone())),
        _ => None,
    }
}
