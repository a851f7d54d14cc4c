//! The choice of a flow by dialled number, as the SIP server asks for it: the staff number
//! runs the announcement recorder, every other number the dialplan it chooses (the default
//! one for unknown numbers). Apart from [`PhoneLine`] so that the line, which the flows
//! read, does not import the flows that run over it.

use std::sync::Arc;

use crate::call::media::SharedPrompt;
use crate::call::{Call, CallFlow, FlowSelector};
use crate::phone::line::PhoneLine;
use crate::phone::prompt_ids::FAREWELL_PROMPT;
use crate::phone::{bridge, staff};

/// The flow selector of `line` for the SIP server.
pub fn flows(line: &Arc<PhoneLine>) -> Arc<dyn FlowSelector> {
    Arc::new(Flows {
        dialplan: Arc::new(DialplanFlow(line.clone())),
        staff: Arc::new(StaffFlow(line.clone())),
        line: line.clone(),
    })
}

struct Flows {
    dialplan: Arc<dyn CallFlow>,
    staff: Arc<dyn CallFlow>,
    line: Arc<PhoneLine>,
}

impl FlowSelector for Flows {
    fn select(&self, dialled: &str) -> Option<Arc<dyn CallFlow>> {
        Some(if self.line.is_staff_number(dialled) {
            self.staff.clone()
        } else {
            self.dialplan.clone()
        })
    }
}

struct DialplanFlow(Arc<PhoneLine>);

impl CallFlow for DialplanFlow {
    fn run(&self, call: Call) -> crate::call::api::FlowFuture {
        Box::pin(bridge::run(self.0.clone(), call))
    }

    fn farewell(&self) -> Option<SharedPrompt> {
        self.0.prompts().get(FAREWELL_PROMPT)
    }
}

struct StaffFlow(Arc<PhoneLine>);

impl CallFlow for StaffFlow {
    fn run(&self, call: Call) -> crate::call::api::FlowFuture {
        Box::pin(staff::run(self.0.clone(), call))
    }

    fn farewell(&self) -> Option<SharedPrompt> {
        self.0.prompts().get(FAREWELL_PROMPT)
    }
}
