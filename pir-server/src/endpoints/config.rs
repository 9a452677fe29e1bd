//! `POST /config` (pir-protocol.md §1.4): each requested use case's newest config (or a reuse
//! stub when the client already holds it), rewritten for old platforms, and the status of the
//! user's evaluation key for each.

use std::sync::Arc;

use axum::extract::State;
use pir::proto::{api, api_shared};

use crate::api_error::ApiError;
use crate::compat::make_compatible;
use crate::extract::{Authorized, ClientPlatform, Protobuf, UserIdentifier};
use crate::key_store::key_name;
use crate::state::AppState;
use crate::usecase::Usecase;

pub async fn config(
    State(state): State<AppState>,
    _auth: Authorized,
    UserIdentifier(user): UserIdentifier,
    ClientPlatform(platform): ClientPlatform,
    Protobuf(request): Protobuf<api::ConfigRequest>,
) -> Result<Protobuf<api::ConfigResponse>, ApiError> {
    let store = state.usecases.load_full();
    let names: Vec<String> = if request.usecases.is_empty() {
        store.names().map(str::to_owned).collect()
    } else {
        request.usecases.clone()
    };
    if !request.existing_config_ids.is_empty()
        && request.existing_config_ids.len() != request.usecases.len()
    {
        return Err(ApiError::ExistingConfigIdsCount {
            got: request.existing_config_ids.len(),
            expected: request.usecases.len(),
        });
    }
    let mut selected: Vec<(&str, Arc<Usecase>)> = Vec::with_capacity(names.len());
    for name in &names {
        match store.latest(name) {
            Some((_, usecase)) => selected.push((name, Arc::clone(usecase))),
            None => {
                return Err(ApiError::UsecasesNotFound {
                    requested: request.usecases,
                    available: store.names().map(str::to_owned).collect(),
                });
            }
        }
    }

    let mut response = api::ConfigResponse::default();
    // Existing ids pair with use cases by request position (Apple pairs them in dictionary
    // order, a bug the spec says not to copy).
    for (i, (name, usecase)) in selected.iter().enumerate() {
        let existing = request.existing_config_ids.get(i).map(Vec::as_slice);
        let mut config = if existing == Some(usecase.config.config_id.as_slice()) {
            api::Config {
                reuse_existing_config: true,
                ..Default::default()
            }
        } else {
            usecase.config.to_config()
        };
        if let Some(platform) = &platform {
            make_compatible(&mut config, platform)?;
        }
        response.configs.insert((*name).to_owned(), config);
    }
    for (_, usecase) in &selected {
        let hash = &usecase.config.pir_config.evaluation_key_config_hash;
        let stored = state
            .keys
            .get(&key_name(&user, hash))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        state.metrics.key_lookup(stored.is_some());
        response.key_info.push(api_shared::KeyStatus {
            timestamp: stored.map_or(0, |k| k.timestamp),
            key_config: Some(usecase.config.evaluation_key_config.clone()),
        });
    }
    Ok(Protobuf(response))
}
